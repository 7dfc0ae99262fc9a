"""bench/run idle-memory — what one idle keep-alive HTTP connection costs a server, in RSS.

    bench/run idle-memory [--connections N] [--rounds R] [--ws [--compress]]

With --ws, what one idle WebSocket session costs (avant: task_type = WEBSOCKET_TASK, no pings
during the run), against Node's `ws` (bench/ws/node-echo.mjs, the benchmark's reference): each
connection sends an upgrade request (offering permessage-deflate with --compress, which both
servers then agree to without context takeover), reads the 101, and stays silent. Avant's goal is
0.6 KiB per idle session.

Method (bench/README.md, "Idle memory"):
  * Each server starts afresh for every round, on one core with one loop (avant: worker_cnt = 0;
    nginx: one worker process, master_process off), serving the same static folder; each is
    configured for many idle connections (avant: max_client_cnt above N; nginx:
    worker_connections and worker_rlimit_nofile above N, keepalive_timeout longer than the run).
  * A round, per server: one warm-up request on its own connection, then the server's RSS
    (/proc/PID/status VmRSS); then N connections, each sends one GET of a 15-byte file and reads
    the whole answer, then stays open and silent; then the RSS again, once two reads 0.3 s apart
    agree. (after - before) / N is the cost of one idle connection. Then the server stops: memory a
    server freed stays in its heap, so a second round on the same process would measure reuse.
  * Rounds alternate which server goes first; the report quotes medians, min-max, and the ratio
    avant / nginx per round (median).
  * A second figure charges what a server reserves for being configured for N connections: each
    round also starts the server configured for SMALL connections, reads its RSS after the warm-up
    (base), and gives (after - base) / N. nginx allocates and touches its connection and event
    arrays for worker_connections at start-up, so its first figure leaves them out; avant reserves
    nothing per configured connection, so its two figures agree.
The client is this script (selectors/epoll, non-blocking sockets); it raises RLIMIT_NOFILE for
itself and the servers it starts. Kernel socket memory is not in any process's RSS, and is the
same for both servers.
"""
from __future__ import annotations

import argparse
import datetime
import json
import resource
import selectors
import socket
import statistics
import sys
import time
from pathlib import Path

import harness

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"
UPGRADE = (b"GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
DEFLATE_OFFER = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
SETTLE = 0.3  # seconds between the two RSS reads that must agree
SMALL = 100  # connections a server is configured for when its base RSS is read
# avant's idle HTTP connections keep their Session for [http] rest_after_ms (1000 by default)
# before they rest: the measure starts after that.
REST_AFTER = 1.0


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def settled_rss_kib(pid: int, deadline: float = 10.0) -> int:
    """The RSS once two reads SETTLE seconds apart differ by at most 0.5% (or at the deadline)."""
    until = time.monotonic() + deadline
    last = rss_kib(pid)
    while time.monotonic() < until:
        time.sleep(SETTLE)  # a bench, not a test: the server has nothing to signal
        now = rss_kib(pid)
        if abs(now - last) <= max(4, last // 200):
            return now
        last = now
    return last


def answer_complete(data: bytes) -> bool:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    if data.startswith(b"HTTP/1.1 101 "):
        return True  # a WebSocket upgrade: no body, the connection now carries frames
    length = 0
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(data) >= head_end + 4 + length


def open_idle(address: str, count: int, request: bytes,
              deadline: float = 120.0) -> list[socket.socket]:
    """`count` connections, each answered once and then left open and silent."""
    host, port = address.rsplit(":", 1)
    selector = selectors.EpollSelector()
    sockets: list[socket.socket] = []
    pending: dict[int, bytes] = {}
    done = 0
    until = time.monotonic() + deadline
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, int(port)))
            sockets.append(s)
            pending[s.fileno()] = b""
            selector.register(s, selectors.EVENT_WRITE, "connecting")
            # Keep the accept queue short: drain events as we go.
            if len(sockets) % 256 == 0:
                done += pump(selector, pending, request, 0)
        while done < count:
            if time.monotonic() > until:
                raise RuntimeError(f"only {done} of {count} connections were answered in time")
            done += pump(selector, pending, request, 1.0)
    finally:
        selector.close()
    return sockets


def pump(selector: selectors.BaseSelector, pending: dict[int, bytes], request: bytes,
         timeout: float) -> int:
    finished = 0
    for key, events in selector.select(timeout):
        s = key.fileobj
        if key.data == "connecting" and events & selectors.EVENT_WRITE:
            error = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise RuntimeError(f"connect failed: {error}")
            s.send(request)  # a few hundred bytes into an empty socket buffer: taken whole
            selector.modify(s, selectors.EVENT_READ, "reading")
        elif events & selectors.EVENT_READ:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed a connection before answering it")
            pending[s.fileno()] += chunk
            if answer_complete(pending[s.fileno()]):
                selector.unregister(s)
                finished += 1
    return finished


def warm_up(address: str, request: bytes) -> None:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        data = b""
        while not answer_complete(data):
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("the warm-up request got no answer")
            data += chunk


def measure(server: harness.Server, count: int, request: bytes) -> dict:
    warm_up(server.address, request)
    before = settled_rss_kib(server.pid)
    sockets = open_idle(server.address, count, request)
    try:
        time.sleep(REST_AFTER + SETTLE)  # a bench, not a test: the server has nothing to signal
        after = settled_rss_kib(server.pid)
    finally:
        for s in sockets:
            s.close()
    return {"rss_before_kib": before, "rss_after_kib": after,
            "kib_per_connection": (after - before) / count}


def start(label: str, build: Path, count: int, ws: bool = False,
          compress: bool = False) -> harness.Server:
    core = 0
    if label == "node ws":
        port = harness.free_port()
        argv = ["node", str(harness.ROOT / "bench/ws/node-echo.mjs"), "--listen",
                f"127.0.0.1:{port}"] + (["--compress"] if compress else [])
        return harness.Server("node ws", argv, core, port=port)
    if label == "avant":
        folder = harness.tempfile.TemporaryDirectory(prefix="avant-idle-")
        port = harness.free_port()
        config = Path(harness.avant_static_config(folder.name, port))
        text = config.read_text().replace("[server]\n",
                                          f"[server]\nmax_client_cnt = {count + 100}\n", 1)
        config.write_text(text + "keep_alive_timeout_ms = 600000\n")  # in [http], the last
        argv = [str(build / "apps/avant"), "-c", str(config)]
        if ws:
            argv += ["--set", "server.task_type=WEBSOCKET_TASK", "--set",
                     "websocket.ping_interval_ms=0", "--set",
                     f"websocket.compression={1 if compress else 0}"]
        server = harness.Server("avant", argv, core, port=port)
        server.keep = folder
        return server
    prefix = harness.tempfile.TemporaryDirectory(prefix="avant-nginx-idle-")
    port = harness.free_port()
    template = (harness.ROOT / "bench/nginx/nginx-idle.conf.in").read_text()
    conf = Path(prefix.name) / "nginx.conf"
    conf.write_text(template.replace("@PORT@", str(port)).replace("@PREFIX@", prefix.name)
                    .replace("@ROOT@", harness.bench_site())
                    .replace("@CONNECTIONS@", str(count + 100))
                    .replace("@FILES@", str(2 * count + 200)))
    server = harness.Server("nginx", ["nginx", "-p", prefix.name, "-c", str(conf), "-e",
                                      f"{prefix.name}/error.log"], core, port=port)
    server.keep = prefix
    return server


def render(report: dict) -> str:
    r = report["result"]
    what = report.get("what", "keep-alive HTTP connections")
    reference = report.get("reference", "nginx")
    lines = [f"# Idle memory — {report['started']}", "",
             f"Revision {report['revision']}; {report['connections']} idle {what} per round, "
             f"{report['rounds']} rounds; method: bench/idle_memory.py.",
             "", "| server | KiB per idle connection (median) | min-max | RSS before -> after "
                 f"(last round) | KiB above a server configured for {SMALL} (median) |",
             "|---|---|---|---|---|"]
    for label in ("avant", reference):
        side = r[label]
        last = side["runs"][-1]
        reserved = side.get("reserved_median")
        lines.append(f"| {label} | {side['median']:.2f} | {side['min']:.2f}-{side['max']:.2f} | "
                     f"{last['rss_before_kib']} -> {last['rss_after_kib']} KiB | "
                     + (f"{reserved:.2f} |" if reserved is not None else "— |"))
    goal = (f"avant's goal: <= 0.6 KiB per idle session (median here "
            f"**{r['avant']['median']:.2f}**)" if reference == "node ws" else "goal <= 1.0")
    lines += ["", f"avant / {reference}, per round: median **{r['ratio']['median']:.2f}** "
                  f"(min {r['ratio']['min']:.2f}, max {r['ratio']['max']:.2f}); {goal}."]
    if "reserved_ratio_median" in r:
        lines += ["", f"Counting what each server reserves for the connections it is configured "
                      f"for (its RSS above the same server configured for {SMALL}): avant / "
                      f"{reference} median {r['reserved_ratio_median']:.2f}."]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run idle-memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default=str(harness.ROOT / "build/release"))
    parser.add_argument("--out", default=str(harness.ROOT / "bench/results"),
                        help="where the report goes")
    parser.add_argument("--ws", action="store_true",
                        help="idle WebSocket sessions, against Node's ws")
    parser.add_argument("--compress", action="store_true",
                        help="with --ws: permessage-deflate offered and agreed")
    args = parser.parse_args(argv)
    request = UPGRADE + (DEFLATE_OFFER if args.compress else b"") + b"\r\n" if args.ws else REQUEST
    reference = "node ws" if args.ws else "nginx"
    labels = ("avant", reference)
    # Both ends of every connection are in this process tree: the client's sockets here, the
    # server's in the child, which inherits the limit.
    want = args.connections + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
        except (ValueError, OSError):
            if hard < want:
                parser.error(f"{args.connections} connections need {want} descriptors; the hard "
                             f"limit is {hard} (ulimit -Hn): ask for fewer with --connections")
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    build = Path(args.build)
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    for r in range(args.rounds):
        order = labels if r % 2 == 0 else tuple(reversed(labels))
        for label in order:
            # A fresh server each round: memory a server freed stays in its heap, so a second
            # round on the same process would measure reuse, not cost.
            small = start(label, build, SMALL, args.ws, args.compress)
            try:
                warm_up(small.address, request)
                base = settled_rss_kib(small.pid)
            finally:
                small.stop()
            server = start(label, build, args.connections, args.ws, args.compress)
            try:
                run = measure(server, args.connections, request)
            finally:
                server.stop()
            run["rss_base_small_kib"] = base
            run["kib_per_connection_reserved"] = (run["rss_after_kib"] - base) / args.connections
            runs[label].append(run)
            print(f"idle-memory: round {r + 1} {label}: {run['kib_per_connection']:.2f} KiB "
                  f"per connection ({run['rss_before_kib']} -> {run['rss_after_kib']} KiB); "
                  f"{run['kib_per_connection_reserved']:.2f} above a server configured for "
                  f"{SMALL} ({base} KiB)", flush=True)
    ratios = [a["kib_per_connection"] / n["kib_per_connection"]
              for a, n in zip(runs["avant"], runs[reference]) if n["kib_per_connection"] > 0]
    result = {label: {"runs": runs[label],
                      "median": statistics.median(x["kib_per_connection"] for x in runs[label]),
                      "min": min(x["kib_per_connection"] for x in runs[label]),
                      "max": max(x["kib_per_connection"] for x in runs[label]),
                      "reserved_median": statistics.median(
                          x["kib_per_connection_reserved"] for x in runs[label])}
              for label in runs}
    reserved = [a["kib_per_connection_reserved"] / n["kib_per_connection_reserved"]
                for a, n in zip(runs["avant"], runs[reference])
                if n["kib_per_connection_reserved"] > 0]
    result["reserved_ratio_median"] = statistics.median(reserved) if reserved else float("nan")
    result["ratio"] = {"median": statistics.median(ratios) if ratios else float("nan"),
                       "min": min(ratios, default=float("nan")),
                       "max": max(ratios, default=float("nan"))}
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    what = ("WebSocket sessions" + (" with permessage-deflate" if args.compress else "")
            if args.ws else "keep-alive HTTP connections")
    report = {"scenario": "idle-memory-ws" if args.ws else "idle-memory", "started": started,
              "revision": harness.revision(), "connections": args.connections,
              "rounds": args.rounds, "what": what, "reference": reference, "result": result}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{started}-{report['scenario']}"
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = render(report)
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
