"""bench/ws/zip_bomb.py — the peak memory a permessage-deflate zip bomb costs avant-ws-echo.

    /usr/bin/python3 bench/ws/zip_bomb.py build/release/examples/ws-echo/avant-ws-echo MIB \
        [avant-ws-echo options, e.g. --max-message 1048576]

Starts the server with --compress, opens one session that agrees to permessage-deflate, sends one
compressed message that inflates to MIB MiB of zeros (raw DEFLATE at level 9, the sync flush's
tail left off, masked as a client must), and reads until the server closes. Prints the close code
(1009 expected) and the server's peak RSS (VmHWM) before and after. The inflater stops at the
message limit, so the peak follows the limit (about twice it: the output grows by doubling and
glibc keeps the freed steps), not the bomb.
"""
import os
import socket
import struct
import subprocess
import sys
import zlib


def peak_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    exe, mib, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    server = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--compress", "--ping", "0",
                               *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        port = int(server.stdout.readline().rsplit(":", 1)[1].split()[0])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: bomb\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      b"Sec-WebSocket-Version: 13\r\n"
                      b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            if b" 101 " not in head or b"permessage-deflate" not in head:
                print(f"zip-bomb: no compressed session: {head!r}")
                return 1
            before = peak_kib(server.pid)
            deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = deflater.compress(b"\0" * (mib << 20)) + deflater.flush(zlib.Z_SYNC_FLUSH)
            payload = payload[:-4]  # 00 00 FF FF, left off the wire
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            n = len(payload)
            if n < 126:
                length = bytes([0x80 | n])
            elif n < 65536:
                length = bytes([0x80 | 126]) + struct.pack(">H", n)
            else:
                length = bytes([0x80 | 127]) + struct.pack(">Q", n)
            s.sendall(bytes([0xC2]) + length + mask + masked)  # FIN, RSV1, binary
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        code = struct.unpack(">H", answer[2:4])[0] if answer[:1] == b"\x88" else None
        after = peak_kib(server.pid)
        print(f"zip-bomb: {mib} MiB of zeros in {n} bytes: close code {code}; server peak RSS "
              f"{before} -> {after} KiB (+{after - before} KiB)")
        return 0 if code == 1009 else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
