"""Three `avant` processes form an IPC mesh on 127.0.0.1, and a python3 socket joins it.

    /usr/bin/python3 avant_mesh_e2e.py <avant binary> <source folder>

Each process runs `make run`'s configuration (examples/main.ini, its other ports moved to
ephemeral ones) with its own app_id (0.0.0.1, 0.0.0.2, 0.0.0.3) and one ipc.json naming the three
and a fourth member, 0.0.0.0, which is this script. Checked:
- the mesh forms: each process logs its two peers up;
- this script, as 0.0.0.0, dials each process: the process speaks first with the original's
  21-byte handshake naming its own app_id, the script answers with its own, and the original's
  echo example over IPC is answered byte for byte (23 bytes in, 25 out);
- a claim of an app_id that ipc.json does not list is refused: the connection is closed without an
  answer to the package behind it, and the reason is logged;
- one process killed (SIGKILL) and started again on its port: the other two log it down and then
  up again (the lower app_id dials it again with backoff; it dials the higher one itself);
- SIGTERM stops each process with exit status 0;
- with mutual TLS ([ipc] use_ssl = 1; the example certificate as each process's certificate and
  as the CA): two processes link up, python3's ssl module with that certificate gets the
  handshake and the echo through TLS, and without a certificate it is refused.
The ports of the three IPC listeners must be known before the processes start (each dials the
others), so the script asks the kernel for three ephemeral ports and releases them just before.
"""
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 15.0
SITE = re.compile(r"avant: serving .* on (http)://127\.0\.0\.1:(\d+)/")
IDS = ["0.0.0.1", "0.0.0.2", "0.0.0.3"]


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def frame(cmd: int, inner: bytes) -> bytes:
    """[u64 big-endian length][ProtoPackage{cmd, protocol}], cmd 0 omitted as proto3 does."""
    package = (varint(1 << 3) + varint(cmd) if cmd else b"") + field(2, inner)
    return struct.pack(">Q", len(package)) + package


def handshake(app_id: str) -> bytes:
    return frame(9, field(1, app_id.encode()))


def receive(sock: socket.socket, n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = sock.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def free_ports(count: int) -> list[int]:
    holders = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        holders.append(s)
    ports = [s.getsockname()[1] for s in holders]
    for s in holders:
        s.close()
    return ports


def start(binary: str, config: str, mesh: str, app_id: str, port: int) -> avant_process.Avant:
    return avant_process.Avant(binary, config, SITE, f"server.app_id={app_id}",
                               f"ipc.ipc_json_path={mesh}", f"ipc.listen_port={port}",
                               "server.worker_cnt=1", "ipc.heartbeat_ms=200",
                               "ipc.peer_timeout_ms=2000", "server.log_level=1")


def up(app_id: str) -> re.Pattern:
    return re.compile(r"\[ipc\] peer " + re.escape(app_id) + r" up")


def down(app_id: str) -> re.Pattern:
    return re.compile(r"\[ipc\] peer " + re.escape(app_id) + r" down")


def body(binary: str, source: str) -> None:
    config = os.path.join(source, "examples", "main.ini")
    folder = tempfile.mkdtemp(prefix="avant-ipc-")
    ports = dict(zip(IDS, free_ports(len(IDS))))
    mesh = os.path.join(folder, "ipc.json")
    with open(mesh, "w", encoding="utf-8") as f:
        json.dump([{"app_id": "0.0.0.0", "ip": "127.0.0.1", "port": 1}] +
                  [{"app_id": i, "ip": "127.0.0.1", "port": ports[i]} for i in IDS], f)

    avants = {i: start(binary, config, mesh, i, ports[i]) for i in IDS}
    for i in IDS:
        for peer in IDS:
            if peer != i:
                avants[i].wait_log(up(peer))
    print("the mesh formed: each process logged its two peers up")

    request = frame(0, field(1, b"hello-avant"))
    answer = frame(1, field(1, b"hello-avant"))
    check(len(request) == 23 and len(answer) == 25, "the echo example's sizes")
    for i in IDS:
        with socket.create_connection(("127.0.0.1", ports[i]), timeout=DEADLINE) as s:
            first = receive(s, 21)
            check(first == handshake(i),
                  f"{i} spoke first with {first.hex(' ')}, not the original's handshake")
            s.sendall(handshake("0.0.0.0") + request)
            got = receive(s, 25)
            check(got == answer, f"{i} answered {got.hex(' ')}")
    print("each process: the original's handshake bytes, then the echo example over IPC")

    with socket.create_connection(("127.0.0.1", ports["0.0.0.1"]), timeout=DEADLINE) as s:
        check(receive(s, 21) == handshake("0.0.0.1"), "the handshake before the liar's claim")
        s.sendall(handshake("7.7.7.7") + request)
        rest = receive(s, 1024)
        check(rest == b"", f"a claim of 7.7.7.7 was answered: {rest.hex(' ')}")
    avants["0.0.0.1"].wait_log(re.compile(r'app_id "7\.7\.7\.7" is not in ipc\.json'))
    print("an app_id ipc.json does not list: refused, closed, logged")

    avants["0.0.0.2"].process.send_signal(signal.SIGKILL)
    avants["0.0.0.2"].process.wait(DEADLINE)
    for i in ("0.0.0.1", "0.0.0.3"):
        avants[i].wait_log(down("0.0.0.2"))
    avants["0.0.0.2"] = start(binary, config, mesh, "0.0.0.2", ports["0.0.0.2"])
    for i in ("0.0.0.1", "0.0.0.3"):
        avants[i].wait_log(up("0.0.0.2"), count=2)
        avants["0.0.0.2"].wait_log(up(i))
    print("0.0.0.2 killed and started again: the others saw it down, then up again")

    for i in IDS:
        code = avants[i].stop()
        check(code == 0, f"{i} exited with {code} after SIGTERM")
    print("SIGTERM: each exited with 0")
    mutual_tls(binary, config, folder)


def mutual_tls(binary: str, config: str, folder: str) -> None:
    cert, key = (s.split("=", 1)[1] for s in avant_process.example_certificate())
    ports = dict(zip(IDS[:2], free_ports(2)))
    mesh = os.path.join(folder, "ipc-tls.json")
    with open(mesh, "w", encoding="utf-8") as f:
        json.dump([{"app_id": "0.0.0.0", "ip": "127.0.0.1", "port": 1}] +
                  [{"app_id": i, "ip": "127.0.0.1", "port": ports[i]} for i in ports], f)
    tls_sets = ["ipc.use_ssl=1", f"ipc.crt.pem={cert}", f"ipc.key.pem={key}", f"ipc.ca.pem={cert}"]
    avants = {i: avant_process.Avant(binary, config, SITE, f"server.app_id={i}",
                                     f"ipc.ipc_json_path={mesh}", f"ipc.listen_port={ports[i]}",
                                     "server.worker_cnt=1", "server.log_level=1", *tls_sets)
              for i in ports}
    avants["0.0.0.1"].wait_log(up("0.0.0.2"))
    avants["0.0.0.2"].wait_log(up("0.0.0.1"))
    print("mutual TLS: 0.0.0.1 and 0.0.0.2 linked")

    context = ssl.create_default_context(cafile=cert)
    context.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", ports["0.0.0.2"]), timeout=DEADLINE) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            first = receive(s, 21)
            check(first == handshake("0.0.0.2"), f"over TLS the handshake was {first.hex(' ')}")
            s.sendall(handshake("0.0.0.0") + frame(0, field(1, b"hello-avant")))
            got = receive(s, 25)
            check(got == frame(1, field(1, b"hello-avant")), f"over TLS: {got.hex(' ')}")
    print("python3 ssl with the CA's certificate: the handshake and the echo over TLS")

    bare = ssl.create_default_context(cafile=cert)  # trusts the server, shows no certificate
    refused = False
    try:
        with socket.create_connection(("127.0.0.1", ports["0.0.0.2"]), timeout=DEADLINE) as raw:
            with bare.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                refused = receive(s, 21) == b""
    except (ssl.SSLError, ConnectionError):
        refused = True
    check(refused, "a TLS client without a certificate got the handshake")
    print("python3 ssl without a certificate: refused")
    for i in ports:
        check(avants[i].stop() == 0, f"{i} (TLS) did not exit with 0")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2]))
