"""End-to-end test of chapter 01's example with a real client (python3's socket module).

Starts avant-iterative-echo on an ephemeral loopback port, checks that it echoes, that a second
client is served only after the first has closed (the iterative server's defining limit), and that
it exits by itself after --max-clients. Every wait has a deadline.
"""
import re
import socket
import subprocess
import sys

DEADLINE = 10.0


def fail(message: str) -> None:
    print("FAIL:", message)
    sys.exit(1)


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def main() -> None:
    binary = sys.argv[1]
    server = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--max-clients", "2"],
                              stdout=subprocess.PIPE, text=True)
    try:
        banner = server.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", banner)
        if not match:
            fail(f"no 'listening on' line, got {banner!r}")
        port = int(match.group(1))

        first = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        second = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)

        payload = bytes(range(256)) * 40  # 10 KiB, every byte value
        first.sendall(payload)
        if recv_exactly(first, len(payload)) != payload:
            fail("first client: echo differs")

        second.sendall(b"waiting")
        second.settimeout(0.3)
        try:
            early = second.recv(16)
            fail(f"second client was answered ({early!r}) while the first was still connected")
        except socket.timeout:
            pass  # expected: it waits in the accept queue
        second.settimeout(DEADLINE)

        first.close()
        if recv_exactly(second, 7) != b"waiting":
            fail("second client: not served after the first closed")
        second.close()

        try:
            code = server.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            fail("server did not exit after --max-clients 2")
        if code != 0:
            fail(f"server exited with {code}")
        print("ok: echoed 10 KiB, served clients one after another, exited cleanly")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
