"""Conformance test of an echo server with python3's socket module, for every echo server of the
project: the reactor's avant-echo (chapter 02) and the benchmark ceiling avant-ceiling-echo. Both
speak the same command line and banner, so the harness can drive either:

    NAME [--listen IP:PORT] [--mode raw|framed] [--max-frame BYTES] [--threads N]
    NAME: listening on 127.0.0.1:PORT (mode raw, 1 thread)

    /usr/bin/python3 echo_conformance.py <binary> [--threads N]   (N: thread count to test, 2)

raw mode: echoes 1 byte, 1 MiB (sent while receiving), 3.5 MiB to a client that reads only after
sending and closing its side (the echo must drain before the server closes), and 20 concurrent
connections. framed mode: echoes frames of 0, 5 and 70000 bytes whole or split at odd
boundaries, holds a partial frame back, and closes a connection whose header exceeds --max-frame.
--threads 2 starts and echoes. Every server exits 0 on SIGTERM/SIGINT. Every wait has a deadline.
"""
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading

import server_log

DEADLINE = 10.0
BANNER = re.compile(r"[\w.-]+: listening on 127\.0\.0\.1:(\d+) "
                    r"\(mode (raw|framed), (\d+) threads?\)\n")


class Failure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


class Server:
    """The binary on an ephemeral port; stop() checks it exits 0, close() kills it regardless."""

    def __init__(self, binary: str, *args: str) -> None:
        self.args = " ".join(args)
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        server_log.watch(f"{binary} --listen 127.0.0.1:0 {self.args}", self.error_output)
        ready, _, _ = select.select([self.proc.stdout], [], [], DEADLINE)
        check(bool(ready), f"[{self.args}] no banner within {DEADLINE}s")
        banner = self.proc.stdout.readline()
        match = BANNER.fullmatch(banner)
        check(match is not None, f"[{self.args}] unexpected banner {banner!r}")
        self.port = int(match.group(1))
        self.mode = match.group(2)
        self.threads = int(match.group(3))

    def connect(self, rcvbuf: int = 0) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect(), so the window is small from the handshake on
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def error_output(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            raise Failure(f"[{self.args}] did not exit within {DEADLINE}s of signal {sig}")
        check(code == 0, f"[{self.args}] exited with {code} on signal {sig}, stderr: "
              f"{self.error_output()!r}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(n - len(data), 1 << 20))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def recv_until_eof(sock: socket.socket) -> bytes:
    data = bytearray()
    while chunk := sock.recv(1 << 20):
        data += chunk
    return bytes(data)


def send_in_background(sock: socket.socket, pieces: list, shut_write: bool = False):
    """Sends while the caller receives: the server echoes as it reads, so sending everything
    first could fill both directions' buffers. Returns a function that joins and re-raises."""
    errors = []

    def run() -> None:
        try:
            for piece in pieces:
                sock.sendall(piece)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
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


def frame(payload: bytes) -> bytes:
    return struct.pack(">Q", len(payload)) + payload


def split_at(data: bytes, cuts: list) -> list:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def check_raw(binary: str) -> None:
    server = Server(binary, "--mode", "raw")
    try:
        check(server.mode == "raw" and server.threads == 1, "raw: banner mode/threads wrong")
        with server.connect() as sock:
            sock.sendall(b"x")
            check(recv_exactly(sock, 1) == b"x", "raw: 1-byte echo differs")

        payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
        with server.connect() as sock:
            join = send_in_background(sock, [payload], shut_write=True)
            echoed = recv_until_eof(sock)  # EOF: the server closes once the echo has drained
            join()
            check(echoed == payload, f"raw: 1 MiB echo differs (got {len(echoed)} bytes)")

        # A client that reads only after sending everything and closing its side: the server must
        # keep taking input and queue the echo, then deliver all of it before closing on EOF.
        # 3.5 MiB: more than loopback's kernel buffers absorb (~3 MiB here), so part of the echo
        # is in the server's own queue at EOF; less than its 4 MiB pause threshold, so the server
        # reads it all and the sender always finishes.
        payload = bytes(range(251)) * ((7 << 19) // 251)  # ~3.5 MiB
        with server.connect(rcvbuf=4096) as sock:
            send_in_background(sock, [payload], shut_write=True)()  # returns once all is sent
            echoed = recv_until_eof(sock)
            check(echoed == payload, f"raw: queued 3.5 MiB echo differs or was cut short at EOF "
                  f"(got {len(echoed)} of {len(payload)} bytes)")

        clients = [server.connect() for _ in range(20)]
        try:
            payloads = [(b"client %02d " % i) * 800 for i in range(len(clients))]
            for sock, data in zip(clients, payloads):
                sock.sendall(data)
            for i, (sock, data) in enumerate(zip(clients, payloads)):
                check(recv_exactly(sock, len(data)) == data, f"raw: concurrent client {i} differs")
        finally:
            for sock in clients:
                sock.close()
        server.stop(signal.SIGTERM)
    finally:
        server.close()


def check_framed(binary: str) -> None:
    server = Server(binary, "--mode", "framed")
    try:
        check(server.mode == "framed", "framed: banner says another mode")
        big = bytes((i * 7) % 251 for i in range(70000))
        stream = frame(b"") + frame(b"hello") + frame(big)
        odd_cuts = [1, 7, 8, 9, 15, 17, 21, 4099, 33333, len(stream) - 1]
        for name, pieces in [("in one sendall", [stream]),
                             ("split at odd boundaries", split_at(stream, odd_cuts))]:
            with server.connect() as sock:
                join = send_in_background(sock, pieces)
                echoed = recv_exactly(sock, len(stream))
                join()
                check(echoed == stream, f"framed: frames of 0, 5, 70000 bytes {name}: echo differs")

        with server.connect() as sock:  # a partial frame is held back until it completes
            sock.sendall(struct.pack(">Q", 5) + b"ab")
            sock.settimeout(0.3)
            try:
                early = sock.recv(64)
                raise Failure(f"framed: partial frame was echoed early ({early!r})")
            except socket.timeout:
                pass  # expected: nothing comes back for 2 of 5 bytes
            sock.settimeout(DEADLINE)
            sock.sendall(b"cde")
            check(recv_exactly(sock, 13) == frame(b"abcde"), "framed: completed frame differs")
        server.stop(signal.SIGTERM)
    finally:
        server.close()

    server = Server(binary, "--mode", "framed", "--max-frame", "1024")
    try:
        with server.connect() as sock:  # exactly the limit is allowed
            limit = frame(b"L" * 1024)
            sock.sendall(limit)
            check(recv_exactly(sock, len(limit)) == limit, "framed: a frame of --max-frame differs")
        with server.connect() as sock:
            sock.sendall(struct.pack(">Q", 2000))
            try:
                closed = sock.recv(64) == b""
            except ConnectionResetError:
                closed = True
            except socket.timeout:
                closed = False
            check(closed, f"framed: a 2000-byte header over --max-frame 1024 did not close the "
                  f"connection within {DEADLINE}s")
        server.stop(signal.SIGTERM)
        check("2000" in server.error_output(),
              f"framed: no stderr line naming the 2000-byte frame: {server.error_output()!r}")
    finally:
        server.close()


def check_threads(binary: str, threads: int) -> None:
    server = Server(binary, "--threads", str(threads))
    try:
        check(server.threads == threads, f"threads: banner does not say {threads} threads")
        clients = [server.connect() for _ in range(8)]
        try:
            for i, sock in enumerate(clients):
                sock.sendall(b"thread test %d" % i)
            for i, sock in enumerate(clients):
                want = b"thread test %d" % i
                check(recv_exactly(sock, len(want)) == want, f"threads: client {i} echo differs")
        finally:
            for sock in clients:
                sock.close()
        server.stop(signal.SIGINT)
    finally:
        server.close()


def main() -> None:
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--threads"):
        print("usage: echo_conformance.py <echo-server-binary> [--threads N]")
        sys.exit(2)
    binary = sys.argv[1]
    threads = int(sys.argv[3]) if len(sys.argv) == 4 else 2
    def body() -> None:
        try:
            check_raw(binary)
            check_framed(binary)
            check_threads(binary, threads)
        except Failure as e:
            print("FAIL:", e)
            sys.exit(1)

    server_log.main(body)  # any failure prints the servers' standard error (a TODO(NN) is there)
    print("ok: raw echoes 1 B, 1 MiB, 3.5 MiB queued past EOF and 20 concurrent clients; framed "
          "echoes 0/5/70000-byte frames whole and split, holds partial frames, closes over "
          "--max-frame; --threads", threads, "echoes; exits 0 on SIGTERM/SIGINT")


if __name__ == "__main__":
    main()
