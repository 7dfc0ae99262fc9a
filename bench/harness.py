"""Avant's benchmark harness: every ratio measured in one run, one report.

    bench/run [--quick] [--dry-run] [--rounds N] [--warmup S] [--duration S] [SCENARIO ...]

Method (bench/README.md has the why):
  * Servers under test and reference servers start once, on 127.0.0.1 ephemeral ports, pinned to
    one core (taskset); the load generator runs pinned to the other core.
  * For each case the pair is measured A B A B ... (alternating which goes first each round), at
    least 3 rounds (5 by default); each run warms up (discarded) then measures.
  * Each run records throughput, latency percentiles, the client's CPU and the server's CPU over the
    measured window (/proc/<pid>/stat, user and system apart). A ratio is computed per round and
    the report quotes medians with min-max.
  * A run whose client used nearly a whole core while the server did not is marked client-bound:
    its throughput says more about the load generator than about the server.
  * callgrind counts user-space instructions per message over a fixed message count: the
    deterministic number for regressions, immune to the noise of a shared machine.
Every process the harness starts is stopped by pid before it exits, also on errors and Ctrl-C.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BANNER = re.compile(r"listening on (?:(?:https?|wss?)://)?(127\.0\.0\.1:\d+)")
CLIENT_BOUND_SHARE = 0.90  # a client using >= 90% of a core ...
SERVER_IDLE_SHARE = 0.90   # ... while the server uses less is client-bound
SCHEMA_VERSION = 1


# --- arithmetic (unit-tested in bench/test_harness.py) ---------------------------------------

def summary(values: list[float]) -> dict:
    """Median and range of a list of measurements."""
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def pairwise_ratios(a: list[float], b: list[float]) -> list[float]:
    """A/B per round: each round's two runs were measured next to each other."""
    if len(a) != len(b):
        raise ValueError(f"unpaired runs: {len(a)} vs {len(b)}")
    return [x / y for x, y in zip(a, b) if y]


def cpu_per_message_us(run: dict) -> float | None:
    """Server CPU microseconds per message over the measured window."""
    if not run.get("messages"):
        return None
    return (run["server_user_s"] + run["server_system_s"]) * 1e6 / run["messages"]


def is_client_bound(run: dict) -> bool:
    seconds = run.get("seconds") or 0
    if seconds <= 0:
        return False
    client = run["client_cpu_s"] / seconds
    server = (run["server_user_s"] + run["server_system_s"]) / seconds
    return client >= CLIENT_BOUND_SHARE and server < SERVER_IDLE_SHARE


def alternation(rounds: int) -> list[tuple[str, str]]:
    """A B, B A, A B, ...: neither server always runs first (warm caches, CPU frequency)."""
    return [("A", "B") if r % 2 == 0 else ("B", "A") for r in range(rounds)]


# --- processes --------------------------------------------------------------------------------

def free_port() -> int:
    """An ephemeral port for servers that cannot be asked to pick one (nginx)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_accepting(address: str, proc: subprocess.Popen, deadline: float = 10.0) -> None:
    """Start-up probe for a server without a banner: connect until it accepts (bounded)."""
    host, port = address.rsplit(":", 1)
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before accepting connections")
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError:
            time.sleep(0.01)  # refused: not listening yet; nothing to wait on but the clock
    raise RuntimeError(f"nothing accepted on {address} within {deadline}s")


class Server:
    """A server started by the harness, pinned to a core; stop() ends it by pid.

    Avant's servers and the C ceilings take --listen 127.0.0.1:0 and print a banner with the port;
    a server given a `port` (nginx) is ready when it accepts a connection."""

    def __init__(self, name: str, argv: list[str], core: int | str, wrap: list[str] | None = None,
                 port: int | None = None):
        self.name = name
        self.keep = None  # anything that must live as long as the server (nginx's prefix)
        banner = port is None
        if banner:
            argv = argv + ["--listen", "127.0.0.1:0"]
        command = ["taskset", "-c", str(core), *(wrap or []), *argv]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        if banner:
            line = self.proc.stdout.readline()
            match = BANNER.search(line)
            if not match:
                self.stop()
                raise RuntimeError(f"{name}: no banner (got {line!r}); stderr: "
                                   f"{self.stderr_tail()}")
            self.address = match.group(1)
        else:
            self.address = f"127.0.0.1:{port}"
            try:
                # Under valgrind a server takes seconds to start.
                wait_until_accepting(self.address, self.proc, 60.0 if wrap else 10.0)
            except RuntimeError as e:
                self.stop()
                raise RuntimeError(f"{name}: {e}; stderr: {self.stderr_tail()}") from None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self) -> str:
        try:
            return (self.proc.stderr.read() or "")[-500:] if self.proc.poll() is not None else ""
        except (OSError, ValueError):
            return ""

    def stop(self, timeout: float = 30.0, again_after: float = 5.0) -> int | None:
        """SIGTERM, repeated every `again_after` seconds until the server exits; SIGKILL after
        `timeout`. The repeat is for nginx under valgrind (bench/run --profile): now and then it
        stays in an epoll_wait without a timer after the SIGTERM (valgrind holds a signal back
        until a system call, and nginx checks its flag before it blocks), and a second one ends
        it. Avant and the ceilings take a repeated SIGTERM as the first."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                self.proc.wait()
                break
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=min(again_after, left))
            except subprocess.TimeoutExpired:
                continue
        return self.proc.returncode


def run_load(load: Path, core: int | str, address: str, server_pid: int, case: dict, warmup: float,
             duration: float | None, count: int | None = None) -> dict:
    argv = ["taskset", "-c", str(core), str(load), "--connect", address, "--mode", case["mode"],
            "--connections", str(case["connections"]), "--size", str(case["size"]),
            "--pipeline", str(case.get("pipeline", 1)), "--server-pid", str(server_pid)]
    if case["mode"] == "http" and case.get("path"):
        argv += ["--path", case["path"]]
    if count:
        argv += ["--count", str(count)]
        limit = 600
    else:
        argv += ["--warmup", str(warmup), "--duration", str(duration)]
        limit = warmup + duration + 60
    done = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
    if done.returncode != 0:
        raise RuntimeError(f"avant-load failed ({done.returncode}): {done.stderr.strip()}")
    result = json.loads(done.stdout)
    if result.get("errors"):
        raise RuntimeError(f"avant-load reported {result['errors']} connection errors: "
                           f"{done.stderr.strip()}")
    return result


def parse_s_time(output: str) -> int:
    """The number of connections (full handshakes) of one `openssl s_time -new` run."""
    match = re.search(r"^(\d+) connections in [\d.]+s;", output, re.M)
    if not match:
        raise ValueError("openssl s_time output without a connection count")
    return int(match.group(1))


def run_s_time(core: int | str, address: str, server_pid: int, case: dict, warmup: float,
               duration: float) -> dict:
    """`openssl s_time -new`: one client doing full handshakes back to back (connect, handshake,
    close) for the measured time; a discarded warm-up first. The rate uses our own wall clock
    (s_time prints whole seconds only)."""
    base = ["taskset", "-c", str(core), "openssl", "s_time", "-connect", address, "-new",
            f"-{case['tls']}"]
    if warmup > 0:
        subprocess.run(base + ["-time", str(max(1, math.ceil(warmup)))], capture_output=True,
                       check=True, timeout=warmup + 60)
    server_before = process_cpu(server_pid)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(base + ["-time", str(max(1, math.ceil(duration)))], capture_output=True,
                          text=True, timeout=duration + 60)
    seconds = time.monotonic() - started
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_after = process_cpu(server_pid)
    if done.returncode != 0:
        raise RuntimeError(f"openssl s_time failed ({done.returncode}): {done.stderr.strip()}")
    handshakes = parse_s_time(done.stdout)
    return {"messages": handshakes, "seconds": seconds, "msgs_per_s": handshakes / seconds,
            "latency_us": {"p50": None, "p99": None, "p999": None, "max": None}, "errors": 0,
            "client_cpu_s": (client_after.ru_utime - client_before.ru_utime)
            + (client_after.ru_stime - client_before.ru_stime),
            "server_user_s": server_after[0] - server_before[0],
            "server_system_s": server_after[1] - server_before[1],
            "connections": case["connections"]}


# --- scenarios --------------------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    description: str
    a: tuple[str, list[str]]          # (label, argv) of the server under test; argv ["nginx"]
    b: tuple[str, list[str]]          # (label, argv) of the reference; or ["nginx-tls"]: nginx
                                       # with bench/nginx/<that name>.conf.in
    cases: list[dict]
    load: str = "echo"                 # "echo": avant-load; "http": wrk; "tls": openssl s_time
    unit: str = "msg"                  # what one measured event is, for the tables
    pending: str | None = None         # why it cannot run yet
    goals: dict = field(default_factory=dict)
    default: bool = True               # part of a plain `bench/run`
    cores: dict | None = None          # taskset core lists for this scenario, if not the default


_PKI: tempfile.TemporaryDirectory | None = None
_SITE: tempfile.TemporaryDirectory | None = None
_IPC: tempfile.TemporaryDirectory | None = None


def bench_ipc_mesh() -> str:
    """The ipc.json of the `ipc` scenario: avant-ipc-load is 0.0.0.1, the server 0.0.0.2 (which
    listens where --listen says; nobody dials the port written here)."""
    global _IPC
    if _IPC is None:
        _IPC = tempfile.TemporaryDirectory(prefix="avant-bench-ipc-")
        (Path(_IPC.name) / "ipc.json").write_text(json.dumps(
            [{"app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 1},
             {"app_id": "0.0.0.2", "ip": "127.0.0.1", "port": 1}]))
    return str(Path(_IPC.name) / "ipc.json")


def bench_site() -> str:
    """The static files of the `static` scenario (4k.bin: 4096 random bytes), once per run."""
    global _SITE
    if _SITE is None:
        _SITE = tempfile.TemporaryDirectory(prefix="avant-bench-site-")
        (Path(_SITE.name) / "4k.bin").write_bytes(os.urandom(4096))
        (Path(_SITE.name) / "1m.bin").write_bytes(os.urandom(1 << 20))
        (Path(_SITE.name) / "index.html").write_text("<h1>bench</h1>\n")
    return _SITE.name


def avant_stream_config(folder: str, port: int) -> str:
    """A main.ini for `avant` serving the protobuf stream (STREAM_TASK, the echo example) on
    `port`, one loop (worker_cnt = 0), like the ceiling's one thread."""
    conf = Path(folder) / "main.ini"
    conf.write_text(f"[server]\nip = 127.0.0.1\nport = {port}\nworker_cnt = 0\n"
                    f"task_type = STREAM_TASK\nlog_level = 2\nother_udp_svr_port = 0\n")
    return str(conf)


def avant_config_server(label: str, argv: list[str], core: int | str,
                        wrap: list[str] | None = None) -> Server:
    """`avant` on a generated main.ini (argv: [kind, avant binary]); ready when it accepts."""
    folder = tempfile.TemporaryDirectory(prefix=f"{argv[0]}-")
    port = free_port()
    if argv[0] == "avant-stream":
        config = avant_stream_config(folder.name, port)
    else:
        config = avant_static_config(folder.name, port, tls=argv[0] == "avant-static-tls")
    server = Server(label, [argv[1], "-c", config], core, wrap=wrap, port=port)
    server.keep = folder
    return server


AVANT_CONFIGURED = ("avant-static", "avant-static-tls", "avant-stream")


def avant_static_config(folder: str, port: int, tls: bool = False) -> str:
    """A main.ini for `avant` serving bench_site() on `port`, one loop, like nginx's one process;
    with `tls`, over TLS with the run's certificate (bench_pki)."""
    conf = Path(folder) / "main.ini"
    text = (f"[server]\nip = 127.0.0.1\nport = {port}\nworker_cnt = 0\nother_udp_svr_port = 0\n"
            f"http_static_dir = {bench_site()}\nlog_level = 2\n")
    if tls:
        cert, key = bench_pki()
        text += f"use_ssl = 1\ncrt.pem = {cert}\nkey.pem = {key}\n"
    conf.write_text(text + "[http]\nmax_requests_per_connection = 100000000\n")
    return str(conf)


def bench_pki() -> tuple[str, str]:
    """(certificate, key) for the TLS scenarios: EC P-256, self-signed for localhost and
    127.0.0.1, made once per run with the openssl command into a temporary folder."""
    global _PKI
    if _PKI is None:
        _PKI = tempfile.TemporaryDirectory(prefix="avant-bench-pki-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out",
                        "cert.pem", "-days", "1", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       cwd=_PKI.name, check=True, capture_output=True, timeout=60)
    return f"{_PKI.name}/cert.pem", f"{_PKI.name}/key.pem"


def start_server(label: str, argv: list[str], core: int | str,
                 wrap: list[str] | None = None) -> Server:
    if any("@CERT@" in a or "@KEY@" in a for a in argv):
        cert, key = bench_pki()
        argv = [a.replace("@CERT@", cert).replace("@KEY@", key) for a in argv]
    if argv[0] in AVANT_CONFIGURED:
        return avant_config_server(label, argv, core)
    if argv not in (["nginx"], ["nginx-tls"], ["nginx-static"], ["nginx-static-untuned"],
                    ["nginx-static-tls"]):
        return Server(label, argv, core)
    # nginx: a private prefix and a config rendered from bench/nginx/<name>.conf.in.
    prefix = tempfile.TemporaryDirectory(prefix="avant-nginx-")
    port = free_port()
    template = (ROOT / f"bench/nginx/{argv[0]}.conf.in").read_text()
    conf = Path(prefix.name) / "nginx.conf"
    if argv in (["nginx-tls"], ["nginx-static-tls"]):
        cert, key = bench_pki()
        template = template.replace("@CERT@", cert).replace("@KEY@", key)
    template = template.replace("@ROOT@", bench_site())
    conf.write_text(template.replace("@PORT@", str(port)).replace("@PREFIX@", prefix.name))
    server = Server(label, ["nginx", "-p", prefix.name, "-c", str(conf), "-e",
                            f"{prefix.name}/error.log"], core, wrap=wrap, port=port)
    server.keep = prefix
    return server


def process_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a whole process, from /proc/<pid>/stat fields 14 and 15."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def wrk_time_us(text: str) -> float:
    """'812.00us', '1.23ms', '2.00s' -> microseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk time: {text!r}")
    scale = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 6e7}[match.group(2)]
    return float(match.group(1)) * scale


def parse_wrk(output: str) -> dict:
    """The numbers of one `wrk --latency` run; errors counts socket errors and non-2xx replies."""
    requests = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", output, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not requests or not rate:
        raise ValueError("wrk output without a request count")
    latency = {}
    for q, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{q}%\s+(\S+)", output, re.M)
        latency[key] = wrk_time_us(m.group(1)) if m else None
    latency["p999"] = None  # wrk reports 50/75/90/99 only
    m = re.search(r"^[ \t]+Latency[ \t]+\S+[ \t]+\S+[ \t]+(\S+)", output, re.M)
    latency["max"] = wrk_time_us(m.group(1)) if m else None
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {"messages": int(requests.group(1)),
            "seconds": wrk_time_us(requests.group(2) + requests.group(3)) / 1e6,
            "msgs_per_s": float(rate.group(1)), "latency_us": latency, "errors": errors}


def run_wrk(core: int | str, address: str, server_pid: int, case: dict, warmup: float,
            duration: float) -> dict:
    """wrk against http://address/: a discarded warm-up run, then the measured run, with the
    server's CPU (/proc) and wrk's CPU (RUSAGE_CHILDREN) over the measured run only."""
    base = ["taskset", "-c", str(core), "wrk", f"-t{case.get('threads', 1)}",
            f"-c{case['connections']}", "--latency"]
    env = None
    if case.get("pipeline", 1) > 1:
        base += ["-s", str(ROOT / "bench/wrk/pipeline.lua")]
        env = dict(os.environ, AVANT_PIPELINE=str(case["pipeline"]))
    url = f"{case.get('scheme', 'http')}://{address}{case.get('path', '/')}"

    def seconds(value: float) -> str:  # wrk takes whole seconds only
        return f"-d{max(1, math.ceil(value))}s"

    if warmup > 0:
        subprocess.run(base + [seconds(warmup), url], capture_output=True, check=True,
                       timeout=warmup + 60, env=env)
    server_before = process_cpu(server_pid)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(base + [seconds(duration), url], capture_output=True, text=True,
                          timeout=duration + 60, env=env)
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_after = process_cpu(server_pid)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    if result["errors"]:
        raise RuntimeError(f"wrk saw {result['errors']} errors:\n{done.stdout}")
    result.update({
        "client_cpu_s": (client_after.ru_utime - client_before.ru_utime)
        + (client_after.ru_stime - client_before.ru_stime),
        "server_user_s": server_after[0] - server_before[0],
        "server_system_s": server_after[1] - server_before[1],
        "connections": case["connections"]})
    return result


# Names that stand for several scenarios, run one after the other in one report.
GROUPS = {"echo-mt": ["echo-w1", "echo-w2"], "http": ["http-nginx", "http-ceiling"],
          "ws": ["ws-node", "ws-ceiling"], "static": ["static", "static-untuned"],
          "udp": ["udp-raw", "udp-proto", "udp-batch"]}


def scenarios(build: Path) -> dict[str, Scenario]:
    echo = str(build / "examples/echo/avant-echo")
    ceiling = str(build / "bench/ceiling/avant-ceiling-echo")
    http_ceiling = str(build / "bench/ceiling/avant-ceiling-http")
    http_echo = str(build / "examples/http-echo/avant-http-echo")
    avant = str(build / "apps/avant")
    ws_echo = ("avant ws", [str(build / "examples/ws-echo/avant-ws-echo"), "--ping", "0"])
    # WebSocket: binary messages of `size` payload bytes; the ceiling carries the same payload in
    # Avant's stream frame (an 8-byte length instead of the 2..4-byte WebSocket header and mask).
    ws_cases = [{"mode": "ws", "size": size, "connections": conns, "pipeline": depth}
                for size, conns, depth in ((64, 50, 1), (64, 256, 1), (4096, 50, 1),
                                           (4096, 256, 1), (64, 50, 16))]
    ws_ceiling_cases = [dict(c, b_mode="framed", b_size=c["size"] + 8) for c in ws_cases]
    # Protobuf framing: the echo example's request in a `size`-byte stream frame (avant-load
    # --mode proto), and the ceiling's framed echo of a frame of the same size.
    proto_cases = [{"mode": "proto", "size": 64, "connections": conns, "pipeline": depth,
                    "b_mode": "framed", "b_size": 64}
                   for conns, depth in ((50, 1), (256, 1), (50, 16), (256, 16))]
    static_cases = [{"mode": "http", "size": 4096, "connections": 50, "threads": 1,
                     "path": "/4k.bin"}]
    hello = ("avant http", [http_echo, "--fixed", "Hello, World!", "--max-requests", "100000000"])
    http_cases = [{"mode": "http", "size": 13, "connections": 50, "threads": 1},
                  {"mode": "http", "size": 13, "connections": 50, "threads": 1, "pipeline": 16}]
    cases = [{"mode": "raw", "size": size, "connections": conns, "pipeline": 1}
             for size in (64, 4096) for conns in (1, 50, 256)]
    mt_cases = [{"mode": "raw", "size": size, "connections": conns, "pipeline": 1}
                for size, conns in ((64, 50), (64, 256), (4096, 50))]
    # UDP (chapter 08): request/response datagrams, 50 senders with 1 or 4 in flight each (200
    # in flight fill about the default receive buffer of 208 KiB: more only measures loss),
    # 64 B and 1200 B (about a datagram of a game or a VPN), avant-udp-load; the ceiling echoes
    # raw datagrams of the same size (for the proto cases too, as the stream's ceiling does).
    udp_echo = str(build / "examples/udp-echo/avant-udp-echo")
    udp_ceiling = str(build / "bench/ceiling/avant-ceiling-udp")
    udp_cases = [{"mode": "udp", "size": size, "connections": 50, "pipeline": depth}
                 for size in (64, 1200) for depth in (1, 4)]
    # One-way: 4 senders flooding (avant-udp-load --pipeline 0), the answers counted.
    udp_cases += [{"mode": "udp", "size": size, "connections": 4, "pipeline": 0}
                  for size in (64, 1200)]
    udp_proto_cases = [dict(c, mode="udp-proto", b_mode="udp", b_size=c["size"])
                       for c in udp_cases]
    both = "0-1" if (os.cpu_count() or 1) > 1 else "0"
    mt_cores = {"server": both, "load": both}
    return {
        "echo": Scenario(
            name="echo",
            description="TCP echo ping-pong (one message in flight per connection): avant-echo "
                        "(one loop) against the C epoll ceiling (one thread)",
            a=("avant-echo", [echo, "--mode", "raw"]),
            b=("ceiling", [ceiling, "--mode", "raw", "--threads", "1"]),
            cases=cases,
            goals={"msgs_ratio_min": 0.95, "cpu_ratio_max": 1.15}),
        # Chapter 03: worker loops against the ceiling's SO_REUSEPORT threads. Two serving
        # threads cannot share one core, so here the servers get both cores and the load
        # generator floats over both too (recorded in the report): the client competes with the
        # server, alike for A and B. Cases where spreading can matter: many connections.
        "echo-w1": Scenario(
            name="echo-w1",
            description="avant-echo with 1 worker loop (+ the accepting main loop) against the "
                        "ceiling with SO_REUSEPORT x 2 threads, client co-located",
            a=("avant-echo w1", [echo, "--mode", "raw", "--workers", "1"]),
            b=("ceiling x2", [ceiling, "--mode", "raw", "--threads", "2"]),
            cases=mt_cases, cores=mt_cores),
        "echo-w2": Scenario(
            name="echo-w2",
            description="avant-echo with 2 worker loops (+ the accepting main loop) against the "
                        "ceiling with SO_REUSEPORT x 2 threads, client co-located",
            a=("avant-echo w2", [echo, "--mode", "raw", "--workers", "2"]),
            b=("ceiling x2", [ceiling, "--mode", "raw", "--threads", "2"]),
            cases=mt_cases, cores=mt_cores),
        # Chapter 04: the cost of a full TLS handshake (ECDSA P-256 signature, ECDHE), the same
        # certificate and protocols on both sides, one client handshaking back to back.
        "tls-handshake": Scenario(
            name="tls-handshake",
            description="full TLS handshakes, one client back to back (openssl s_time -new): "
                        "avant-echo with TLS (one loop) against nginx (one process), same "
                        "certificate (EC P-256) and protocols",
            a=("avant-echo tls", [echo, "--mode", "raw", "--tls-cert", "@CERT@", "--tls-key",
                                  "@KEY@"]),
            b=("nginx tls", ["nginx-tls"]),
            cases=[{"mode": "handshake", "tls": v, "size": 0, "connections": 1}
                   for v in ("tls1_3", "tls1_2")],
            load="tls", unit="handshake"),
        # Chapter 05: Avant's HTTP server (one loop, a fixed 13-byte answer like nginx's
        # `return 200`) against nginx (one process) and against the C HTTP ceiling, keep-alive
        # and pipelined 16 deep. `bench/run http` runs both in one report.
        "http-nginx": Scenario(
            name="http-nginx",
            description="HTTP/1.1 keep-alive, fixed 13-byte answer, wrk -t1 -c50 (and pipelined "
                        "16 deep): avant-http-echo --fixed (one loop) against nginx (one process)",
            a=hello, b=("nginx", ["nginx"]), cases=http_cases, load="http", unit="req",
            goals={"msgs_ratio_min": 1.0}),
        "http-ceiling": Scenario(
            name="http-ceiling",
            description="the same against the C epoll HTTP ceiling (one thread)",
            a=hello, b=("http ceiling", [http_ceiling, "--threads", "1"]), cases=http_cases,
            load="http", unit="req", goals={"cpu_ratio_max": 1.1}),
        # nginx tuned for static files as its documentation shows (open_file_cache, sendfile,
        # tcp_nopush, tcp_nodelay), and, as a second row, nginx without the open-file cache.
        "static": Scenario(
            name="static",
            description="a 4 KiB static file, keep-alive, wrk -t1 -c50: avant on a generated "
                        "main.ini (one loop) against nginx tuned for static files (one process, "
                        "open_file_cache as documented, sendfile, tcp_nopush, tcp_nodelay)",
            a=("avant static", ["avant-static", avant]), b=("nginx static", ["nginx-static"]),
            cases=static_cases, load="http", unit="req",
            goals={"msgs_ratio_min": 1.1, "cpu_ratio_max": 0.9}),
        "static-untuned": Scenario(
            name="static-untuned",
            description="the same against nginx without its open-file cache (sendfile on)",
            a=("avant static", ["avant-static", avant]),
            b=("nginx untuned", ["nginx-static-untuned"]),
            cases=static_cases, load="http", unit="req"),
        # Chapter 04's bulk TLS throughput, measured with chapter 05's HTTPS: a 1 MiB file over
        # TLS 1.3, both servers reading and encrypting (no sendfile under TLS).
        "tls-bulk": Scenario(
            name="tls-bulk",
            description="bulk TLS: a 1 MiB static file over HTTPS (TLS 1.3, keep-alive), wrk -t1 "
                        "-c10: avant (use_ssl = 1, one loop) against nginx (one process), same "
                        "certificate (EC P-256); 1 req = 1 MiB",
            a=("avant tls", ["avant-static-tls", avant]),
            b=("nginx tls", ["nginx-static-tls"]),
            cases=[{"mode": "http", "size": 1 << 20, "connections": 10, "threads": 1,
                    "path": "/1m.bin", "scheme": "https"}],
            load="http", unit="req"),
        # Chapter 06: the WebSocket echo against Node's ws and against the framed C ceiling.
        # `bench/run ws` runs both in one report (not part of the default run: 20 minutes).
        "ws-node": Scenario(
            name="ws-node",
            description="WebSocket echo, binary messages, one in flight per connection (and "
                        "pipelined 16 deep): avant-ws-echo (one loop) against Node's ws (one "
                        "process, bufferutil, no compression)",
            a=ws_echo, b=("node ws", ["node", str(ROOT / "bench/ws/node-echo.mjs")]),
            cases=ws_cases, goals={"msgs_ratio_min": 1.0}, default=False),
        "ws-ceiling": Scenario(
            name="ws-ceiling",
            description="the same against the C epoll ceiling in framed mode (one thread), the "
                        "same payload in an 8-byte length frame",
            a=ws_echo, b=("ceiling", [ceiling, "--mode", "framed", "--threads", "1"]),
            cases=ws_ceiling_cases, goals={"msgs_ratio_min": 0.95, "cpu_ratio_max": 1.1},
            default=False),
        # Chapter 07: ProtoPackages on a TCP stream (STREAM_TASK, the echo example: a frame
        # parsed, dispatched, answered) against the C ceiling echoing the same-sized frame.
        "proto": Scenario(
            name="proto",
            description="protobuf stream echo (CS_REQ_EXAMPLE -> CS_RES_EXAMPLE in 8-byte-length "
                        "frames of 64 B), one in flight per connection and pipelined 16 deep: "
                        "avant with task_type = STREAM_TASK (worker_cnt = 0: one loop) against "
                        "the C epoll ceiling in framed mode (one thread)",
            a=("avant stream", ["avant-stream", avant]),
            b=("ceiling", [ceiling, "--mode", "framed", "--threads", "1"]),
            cases=proto_cases, goals={"msgs_ratio_min": 0.95, "cpu_ratio_max": 1.15},
            default=False),
        # Chapter 08: datagrams on the reactor (UdpEndpoint) against the C recvmmsg echo.
        # Chapter 09: request/response over an IPC link (both ends IpcMesh: the handshake, the
        # acknowledgements) against the same package over chapter 07's stream.
        "ipc": Scenario(
            name="ipc",
            description="the echo example over IPC, one link, 1 or 16 requests in flight: "
                        "avant-ipc-load (app 0.0.0.1) against avant-ipc-node (app 0.0.0.2, one "
                        "loop), against avant-load --mode proto on one connection to avant with "
                        "task_type = STREAM_TASK (one loop): the same 64-byte frames",
            a=("avant ipc", [str(build / "examples/ipc/avant-ipc-node"), "--ipc",
                             bench_ipc_mesh(), "--app", "0.0.0.2"]),
            b=("avant stream", ["avant-stream", avant]),
            cases=[{"mode": "ipc", "size": 64, "connections": 1, "pipeline": depth,
                    "b_mode": "proto", "b_size": 64} for depth in (1, 16)],
            goals={"msgs_ratio_min": 0.9, "cpu_ratio_max": 1.2}),
        "udp-raw": Scenario(
            name="udp-raw",
            description="UDP echo, request/response (50 senders, 1 or 4 datagrams in flight "
                        "each) and one-way (4 senders flooding, the answers counted): "
                        "avant-udp-echo (one loop, recvmmsg/sendmmsg batches of 16) "
                        "against the C ceiling (one thread, recvmmsg/sendmmsg batches of 16)",
            a=("avant udp", [udp_echo]), b=("ceiling", [udp_ceiling]),
            cases=udp_cases, load="udp", unit="datagram",
            goals={"msgs_ratio_min": 0.95, "cpu_ratio_max": 1.15}, default=False),
        "udp-proto": Scenario(
            name="udp-proto",
            description="the original's echo example over UDP (one ProtoPackage per datagram, "
                        "chapter 07's dispatcher): avant-udp-echo --proto against the C ceiling "
                        "echoing raw datagrams of the same size",
            a=("avant udp proto", [udp_echo, "--proto"]), b=("ceiling", [udp_ceiling]),
            cases=udp_proto_cases, load="udp", unit="datagram",
            goals={"msgs_ratio_min": 0.95, "cpu_ratio_max": 1.15}, default=False),
        "udp-batch": Scenario(
            name="udp-batch",
            description="whether batching pays: avant-udp-echo with recvmmsg/sendmmsg batches of "
                        "16 against the same with one datagram per system call (recvmsg, "
                        "sendto)",
            a=("batch 16", [udp_echo]), b=("batch 1", [udp_echo, "--batch", "1"]),
            cases=udp_cases, load="udp", unit="datagram", default=False),
        "http-refs": Scenario(
            name="http-refs",
            description="the HTTP references against each other with wrk (keep-alive, fixed "
                        "13-byte body): nginx (one process) against the C epoll HTTP ceiling; "
                        "Avant's HTTP server joins as A with chapter 05",
            a=("nginx", ["nginx"]),
            b=("http ceiling", [http_ceiling, "--threads", "1"]),
            cases=[{"mode": "http", "size": 13, "connections": 50, "threads": 1}],
            load="http",
            # Reference against reference: run on request (`bench/run http-refs`) until chapter
            # 05 puts Avant's HTTP server in as A; this keeps the default run under 15 minutes.
            default=False),
    }


def case_for(case: dict, key: str) -> dict:
    """The case as server `key` ("A" or "B") is driven: B may speak another mode with another
    message size (b_mode, b_size), e.g. the ceiling's frame for a WebSocket message."""
    if key == "B" and "b_mode" in case:
        return dict(case, mode=case["b_mode"], size=case["b_size"])
    return case


def case_label(case: dict) -> str:
    if case["mode"] == "handshake":
        return f"full handshake {case['tls'].replace('tls1_', 'TLS 1.')}"
    if case["mode"] == "http":
        depth = case.get("pipeline", 1)
        what = f"GET {case['path']}" if "path" in case else f"http {case['size']} B"
        return f"{what} x {case['connections']} conn" + (f" pipelined {depth}" if depth > 1 else "")
    depth = case.get("pipeline", 1)
    return (f"{case['mode']} {case['size']} B x {case['connections']} conn"
            + (f" pipelined {depth}" if depth > 1 else " flood" if depth == 0 else ""))


def uses(s: Scenario) -> list[str]:
    """The executables a scenario needs."""
    tools = [{"http": "wrk", "tls": "openssl", "udp": "avant-udp-load"}.get(s.load, "avant-load")]
    if any(c.get("mode") == "ipc" for c in s.cases):
        tools.append("avant-ipc-load")
    for _, argv in (s.a, s.b):
        tools.append("nginx" if argv[0].startswith("nginx") else argv[0])
        if argv[0] in AVANT_CONFIGURED:
            tools[-1] = argv[1]
    return tools


def measure_scenario(s: Scenario, load: Path, cores: dict, rounds: int, warmup: float,
                     duration: float, only: list[str] | None, log) -> dict:
    cores = s.cores or cores
    a = start_server(s.a[0], s.a[1], cores["server"])
    b = None
    try:
        b = start_server(s.b[0], s.b[1], cores["server"])
        servers = {"A": a, "B": b}
        results = []
        for case in s.cases:
            if only and case_label(case) not in only:
                continue
            runs = {"A": [], "B": []}
            for order in alternation(rounds):
                for key in order:
                    server = servers[key]
                    if s.load == "tls":
                        run = run_s_time(cores["load"], server.address, server.pid, case, warmup,
                                         duration)
                    elif s.load == "http":
                        run = run_wrk(cores["load"], server.address, server.pid, case, warmup,
                                      duration)
                    else:
                        driven = case_for(case, key)
                        tool = (load.parent / "avant-udp-load" if s.load == "udp" else
                                load.parent / "avant-ipc-load" if driven["mode"] == "ipc" else
                                load)
                        run = run_load(tool, cores["load"], server.address, server.pid, driven,
                                       warmup, duration)
                    run["client_bound"] = is_client_bound(run)
                    runs[key].append(run)
                    p99 = run["latency_us"]["p99"]
                    log(f"  {s.name} | {case_label(case):26} | {server.name:14} | "
                        f"{run['msgs_per_s']:>11.0f} {s.unit}/s | "
                        + ("p99 -" if p99 is None else f"p99 {p99:>8.1f} us")
                        + f" | server CPU {cpu_per_message_us(run) or 0:.1f} us/{s.unit}")
            results.append(summarize_case(case, runs))
        return {"name": s.name, "description": s.description, "a": s.a[0], "b": s.b[0],
                "goals": s.goals, "cores": cores, "unit": s.unit, "cases": results}
    finally:
        for server in (a, b):
            if server is not None:
                server.stop()


def summarize_case(case: dict, runs: dict) -> dict:
    def series(key: str, metric) -> list[float]:
        return [v for v in (metric(r) for r in runs[key]) if v is not None]

    msgs = {k: series(k, lambda r: r["msgs_per_s"]) for k in runs}
    cpu = {k: series(k, cpu_per_message_us) for k in runs}
    p99 = {k: series(k, lambda r: r["latency_us"]["p99"]) for k in runs}
    user_share = {k: series(k, lambda r: r["server_user_s"] /
                            ((r["server_user_s"] + r["server_system_s"]) or 1)) for k in runs}
    # Datagrams (avant-udp-load): the share not answered within its deadline.
    loss = {k: series(k, lambda r: r["lost"] / ((r["messages"] + r["lost"]) or 1)
                      if "lost" in r else None) for k in runs}
    return {
        "case": case,
        "label": case_label(case),
        "runs": runs,
        "A": {"msgs_per_s": summary(msgs["A"]), "cpu_us_per_msg": summary(cpu["A"]),
              "p99_us": summary(p99["A"]), "server_user_share": summary(user_share["A"])},
        "B": {"msgs_per_s": summary(msgs["B"]), "cpu_us_per_msg": summary(cpu["B"]),
              "p99_us": summary(p99["B"]), "server_user_share": summary(user_share["B"])},
        "ratio": {"msgs_per_s": summary(pairwise_ratios(msgs["A"], msgs["B"])),
                  "cpu_us_per_msg": summary(pairwise_ratios(cpu["A"], cpu["B"]))
                  if len(cpu["A"]) == len(cpu["B"]) else summary([])},
        "client_bound": any(r["client_bound"] for k in runs for r in runs[k]),
        "loss": {k: summary(loss[k]) for k in runs} if loss["A"] or loss["B"] else None,
    }


# --- callgrind --------------------------------------------------------------------------------

ECHO_64 = {"mode": "raw", "size": 64, "connections": 1, "pipeline": 1}
HTTP_GET = {"mode": "http", "size": 0, "connections": 1, "pipeline": 1}


def callgrind_run(argv: list[str], load: Path, cores: dict, count: int, case: dict,
                  read) -> object:
    """Runs the server under callgrind while it serves `count` messages of `case`, stops it, and
    returns read(path of callgrind's output file) before the output is deleted."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        wrap = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        if argv[0] in AVANT_CONFIGURED:
            server = avant_config_server("callgrind", argv, cores["server"], wrap=wrap)
        elif argv[0].startswith("nginx"):
            server = start_server("callgrind", argv, cores["server"], wrap=wrap)
        else:
            server = Server("callgrind", argv, cores["server"], wrap=wrap)
        try:
            run_load(load, cores["load"], server.address, server.pid, case, 0, None, count=count)
        finally:
            code = server.stop(timeout=120)
        size = out.stat().st_size if out.exists() else -1
        if code != 0 or size <= 0:
            raise RuntimeError(f"callgrind run exited with {code}, output {size} bytes; stderr: "
                               f"{server.stderr_tail()}")
        return read(out)


def callgrind_instructions(argv: list[str], load: Path, cores: dict, count: int,
                           case: dict = ECHO_64) -> int:
    """Total user-space instructions of a server run that serves `count` messages of `case`."""
    text = callgrind_run(argv, load, cores, count, case, lambda out: out.read_text())
    totals = re.search(r"^(?:totals|summary):\s+(\d+)", text, re.M)
    if not totals:
        raise RuntimeError("no totals in the callgrind output")
    return int(totals.group(1))


def annotate(out: Path) -> str:
    """callgrind_annotate's self cost per function of one output file."""
    done = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"callgrind_annotate {out}: {done.stderr.strip()[-400:]}")
    return done.stdout


def callgrind_functions(argv: list[str], load: Path, cores: dict, count: int,
                        case: dict) -> dict[str, int]:
    """Self instructions (Ir) of every function in a server run that serves `count` messages of
    `case`, by callgrind_annotate's `file:function` name."""
    text = callgrind_run(argv, load, cores, count, case, annotate)
    costs: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)(?:\s+\[[^]]*\])?$", line)
        if match and ":" in match.group(2) and not match.group(2).startswith("PROGRAM"):
            name = match.group(2)
            costs[name] = costs.get(name, 0) + int(match.group(1).replace(",", ""))
    return costs


def profile_per_message(argv: list[str], load: Path, cores: dict, low: int, high: int,
                        case: dict) -> list[tuple[str, float]]:
    """Instructions per message by function, (I_f(high) - I_f(low)) / n, largest first; the
    functions that only start and stop the server cancel out."""
    a = callgrind_functions(argv, load, cores, low, case)
    b = callgrind_functions(argv, load, cores, high, case)
    rows = [(name, (b.get(name, 0) - a.get(name, 0)) / (high - low)) for name in set(a) | set(b)]
    return sorted((r for r in rows if r[1] >= 1.0), key=lambda r: -r[1])


def short_function(name: str) -> str:
    """callgrind_annotate's `file:function(args) [clone]` as `function`, `libc's memcpy (file)`."""
    where, _, function = name.partition(":")
    if where == "???" or where.endswith((".cpp", ".hpp", ".cc", ".h")):
        where = ""
    depth = 0
    for i, ch in enumerate(function):  # cut the argument list (templates may hold parentheses)
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "(" and depth == 0 and i > 0:
            function = function[:i]
            break
    if function.startswith("std::_Function_handler<"):
        function = "std::function call (a handler or a task)"
    file = Path(where).name
    return f"{function} ({file})" if file else function


def profile_table(rows: list[tuple[str, float]], top: int = 25) -> tuple[float, list[str]]:
    """(total, Markdown rows) of a per-function profile, overloads summed, largest first."""
    merged: dict[str, float] = {}
    for name, value in rows:
        key = short_function(name)
        merged[key] = merged.get(key, 0.0) + value
    total = sum(merged.values())
    ordered = sorted(merged.items(), key=lambda kv: -kv[1])
    lines = ["| function | instructions / message | share |", "|---|---:|---:|"]
    for name, value in ordered[:top]:
        lines.append(f"| `{name}` | {value:.0f} | {100 * value / total:.1f}% |")
    rest = sum(v for _, v in ordered[top:])
    if rest:
        lines.append(f"| (the {len(ordered) - top} others) | {rest:.0f} | "
                     f"{100 * rest / total:.1f}% |")
    return total, lines


def instructions_per_message(argv: list[str], load: Path, cores: dict, low: int,
                             high: int, case: dict = ECHO_64) -> float:
    """Instructions per message, start-up and shutdown cancelled out: (I(high) - I(low)) / n."""
    return (callgrind_instructions(argv, load, cores, high, case)
            - callgrind_instructions(argv, load, cores, low, case)) / (high - low)


# --- the report -------------------------------------------------------------------------------

def command_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "model": model, "kernel": platform.release()}


def revision() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def validate_report(report: dict) -> list[str]:
    """Problems with a report's shape; [] when well formed. Used by tests and by --check."""
    problems = []
    for key in ("schema", "revision", "started", "machine", "cores", "versions", "method",
                "scenarios"):
        if key not in report:
            problems.append(f"missing '{key}'")
    for s in report.get("scenarios", []):
        if s.get("pending"):
            continue
        if not s.get("cases"):
            problems.append(f"scenario {s.get('name')}: no cases")
        for c in s.get("cases", []):
            for side in ("A", "B"):
                median = c.get(side, {}).get("msgs_per_s", {}).get("median")
                if not isinstance(median, (int, float)) or median <= 0:
                    problems.append(f"{s.get('name')} {c.get('label')}: {side} has no throughput")
            if c.get("ratio", {}).get("msgs_per_s", {}).get("median") is None:
                problems.append(f"{s.get('name')} {c.get('label')}: no ratio")
    return problems


def fmt(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cpu_cell(side: dict) -> str:
    """'23.72 (5% user)': CPU per message and how much of it was user space."""
    share = side.get("server_user_share", {}).get("median")
    text = fmt(side["cpu_us_per_msg"]["median"])
    return text if share is None else f"{text} ({share * 100:.0f}% user)"


def merge_reports(reports: list[dict]) -> dict:
    """The first report, with each later report's measured scenarios replacing same-named ones (or
    joining); a scenario taken from a later report records that run's revision and start time."""
    merged = json.loads(json.dumps(reports[0]))
    for later in reports[1:]:
        for s in later["scenarios"]:
            if s.get("pending"):
                continue
            s = dict(s, measured_in={"revision": later["revision"], "started": later["started"]})
            names = [x["name"] for x in merged["scenarios"]]
            if s["name"] in names:
                merged["scenarios"][names.index(s["name"])] = s
            else:
                merged["scenarios"].append(s)
        # Instruction counts: a later report's figure for a server replaces an earlier one.
        if later.get("callgrind"):
            merged.setdefault("callgrind", {}).update(later["callgrind"])
    # A pending group (an older report's placeholder) goes once its members are measured.
    measured = {s["name"] for s in merged["scenarios"] if not s.get("pending")}
    merged["scenarios"] = [s for s in merged["scenarios"]
                           if not (s.get("pending") and s["name"] in GROUPS
                                   and set(GROUPS[s["name"]]) <= measured)]
    return merged


def scaling_lines(report: dict) -> list[str]:
    """Markdown: 2 worker loops against 1, per case, when both scenarios ran in this report."""
    by_name = {s["name"]: s for s in report["scenarios"] if not s.get("pending")}
    if "echo-w1" not in by_name or "echo-w2" not in by_name:
        return []
    w1 = {c["label"]: c for c in by_name["echo-w1"]["cases"]}
    lines = ["## Scaling: 2 worker loops / 1 worker loop", "",
             "The two scenarios ran one after the other, so the machine's drift between them is in "
             "w2 / w1; each was paired round by round with the same ceiling, so the ratio of the "
             "two ceiling ratios cancels that drift and is the better estimate.", "",
             "| case | w1 msg/s | w2 msg/s | w2 / w1 | w1 / ceiling x2 | w2 / ceiling x2 | "
             "w2 / w1 via the ceiling |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for c2 in by_name["echo-w2"]["cases"]:
        c1 = w1.get(c2["label"])
        if c1 is None:
            continue
        m1, m2 = c1["A"]["msgs_per_s"]["median"], c2["A"]["msgs_per_s"]["median"]
        r1, r2 = c1["ratio"]["msgs_per_s"]["median"], c2["ratio"]["msgs_per_s"]["median"]
        lines.append(f"| {c2['label']} | {fmt(m1, 0)} | {fmt(m2, 0)} | "
                     f"{fmt(m2 / m1 if m1 else None)} | {fmt(r1)} | {fmt(r2)} | "
                     f"{fmt(r2 / r1 if r1 and r2 is not None else None)} |")
    return lines + [""]


def render_markdown(report: dict) -> str:
    m = report["method"]
    lines = [
        f"# Avant benchmarks — {report['started']}",
        "",
        f"- revision `{report['revision']}`; machine: {report['machine']['cores']} cores, "
        f"{report['machine']['model']}, kernel {report['machine']['kernel']}",
        f"- cores: servers pinned to core {report['cores']['server']}, load generator to core "
        f"{report['cores']['load']} (taskset)",
        f"- method: A/B alternation, {m['rounds']} rounds, {m['warmup']} s warm-up discarded, "
        f"{m['duration']} s measured; medians with min–max over rounds; ratio = A/B per round",
        "- versions: " + "; ".join(f"{k}: {v}" for k, v in report["versions"].items()),
        "",
    ]
    for s in report["scenarios"]:
        lines.append(f"## {s['name']}: {s['description']}")
        lines.append("")
        if s.get("pending"):
            lines += [f"Not measured: {s['pending']}.", ""]
            continue
        if s.get("measured_in"):
            lines += [f"Measured in another run: {s['measured_in']['started']}, revision "
                      f"`{s['measured_in']['revision']}` (same machine and method).", ""]
        if s.get("cores") and s["cores"] != report["cores"]:
            lines += [f"Cores for this scenario: servers on {s['cores']['server']}, load generator "
                      f"on {s['cores']['load']} (taskset).", ""]
        goals = s.get("goals") or {}
        parts = []
        if goals.get("msgs_ratio_min") is not None:
            parts.append(f"throughput ratio ≥ {goals['msgs_ratio_min']}")
        if goals.get("cpu_ratio_max") is not None:
            parts.append(f"CPU per message ratio ≤ {goals['cpu_ratio_max']}")
        if parts:
            lines += ["Goals: " + ", ".join(parts) + ".", ""]
        unit = s.get("unit", "msg")
        lines.append(f"| case | {s['a']} {unit}/s | {s['b']} {unit}/s | ratio (min–max) | "
                     f"CPU µs/{unit} {s['a']} (user share) | {s['b']} | CPU ratio | p99 µs A / B "
                     f"| note |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for c in s["cases"]:
            r, cr = c["ratio"]["msgs_per_s"], c["ratio"]["cpu_us_per_msg"]
            note = "client-bound" if c["client_bound"] else ""
            if c.get("loss"):
                lost = [c["loss"][k]["median"] for k in ("A", "B")]
                note += (" " if note else "") + "lost " + " / ".join(
                    "-" if v is None else f"{100 * v:.2f}%" for v in lost)
            lines.append(
                f"| {c['label']} | {fmt(c['A']['msgs_per_s']['median'], 0)} | "
                f"{fmt(c['B']['msgs_per_s']['median'], 0)} | {fmt(r['median'])} "
                f"({fmt(r['min'])}–{fmt(r['max'])}) | {cpu_cell(c['A'])} | {cpu_cell(c['B'])} | "
                f"{fmt(cr['median'])} | "
                f"{fmt(c['A']['p99_us']['median'], 0)} / {fmt(c['B']['p99_us']['median'], 0)} | "
                f"{note} |")
        lines.append("")
    lines += scaling_lines(report)
    if report.get("callgrind"):
        lines += ["## Instructions per message (callgrind, user space, one connection)", "",
                  "64 B raw echo messages, or keep-alive `GET /` requests (the server's label "
                  "says which).", "", "| server | instructions / message |", "|---|---:|"]
        for name, value in report["callgrind"].items():
            lines.append(f"| {name} | {fmt(value, 0)} |")
        lines.append("")
    if report.get("micro"):
        lines += ["## Micro-benchmarks (Google Benchmark, median of repetitions)", "",
                  "| benchmark | time (ns) |", "|---|---:|"]
        for b in report["micro"]:
            lines.append(f"| {b['name']} | {fmt(b['real_time_ns'], 1)} |")
        lines.append("")
    return "\n".join(lines)


def micro_benchmarks(build: Path, repetitions: int, log) -> list[dict]:
    found = []
    for exe in sorted((build / "bench/micro").glob("avant-micro-*")):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            log(f"  micro: {exe.name}")
            subprocess.run([str(exe), f"--benchmark_repetitions={repetitions}",
                            "--benchmark_report_aggregates_only=true",
                            f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                           check=True, capture_output=True, timeout=900)
            data = json.loads(Path(out.name).read_text())
        for b in data["benchmarks"]:
            if b.get("aggregate_name") == "median":
                found.append({"name": f"{exe.name}: {b['run_name']}",
                              "real_time_ns": b["real_time"] if b.get("time_unit") == "ns"
                              else b["real_time"] * {"us": 1e3, "ms": 1e6}.get(b["time_unit"], 1)})
    return found


def write_profiles(chosen: list[Scenario], load: Path, cores: dict, args) -> int:
    """bench/run --profile: where the instructions of one message go, by function, for A and B
    of each case, one connection; (I_f(high) - I_f(low)) / n cancels start-up and stop."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        print("bench: --profile needs valgrind (scripts/install-deps.sh installs it)")
        return 1
    started = datetime.datetime.now(datetime.timezone.utc)
    low, high = (200, 1200) if args.quick else (1000, 6000)
    lines = [f"# Avant profiles — {started.strftime('%Y-%m-%dT%H:%M:%SZ')}", "",
             f"- revision `{revision()}`; callgrind, user space, one connection; instructions per "
             f"message = (I(after {high}) - I(after {low})) / {high - low}, by function "
             "(self cost), so start-up and stop cancel out; bench/harness.py --profile", ""]
    for s in chosen:
        if s.load == "tls":
            continue  # handshakes: openssl s_time, not a message count
        for case in s.cases:
            if case.get("scheme") == "https":
                continue  # avant-load speaks no TLS
            for (label, argv), key in ((s.a, "A"), (s.b, "B")):
                c = case_for(dict(case, connections=1), key)
                print(f"bench: profile {s.name}: {label}, {case_label(c)}", flush=True)
                if any("@CERT@" in a for a in argv):
                    cert, key_file = bench_pki()
                    argv = [a.replace("@CERT@", cert).replace("@KEY@", key_file) for a in argv]
                rows = profile_per_message(argv, load, cores, low, high, c)
                total, table = profile_table(rows)
                lines += [f"## {s.name}: {label}, {case_label(c)}", "",
                          f"{total:.0f} instructions per message.", "", *table, ""]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{started.strftime('%Y%m%dT%H%M%SZ')}-profile.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"bench: profiles in {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--build", default=str(ROOT / "build/release"), help="build folder")
    parser.add_argument("--out", default=str(ROOT / "bench/results"), help="report folder")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 0.5 s + 1.5 s")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--warmup", type=float)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--case", action="append", help="only this case label, e.g. 'raw 64 B x 1 conn'")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--no-micro", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="instead of measuring: callgrind's instructions per message by "
                             "function, for each case of the scenarios (one connection, A and B), "
                             "written to <out>/<time>-profile.md")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--render", metavar="REPORT.json", nargs="+",
                        help="check a JSON report and write its Markdown next to it; with several, "
                             "later reports' scenarios replace or join the first's (each says which "
                             "run it comes from) and the Markdown goes next to the last; run nothing")
    args = parser.parse_args(argv)

    if args.render:
        sources = [Path(p) for p in args.render]
        reports = [json.loads(p.read_text()) for p in sources]
        for source, report in zip(sources, reports):
            problems = validate_report(report)
            if problems:
                print(f"bench: {source} is not well formed: " + "; ".join(problems))
                return 1
        report = merge_reports(reports)
        markdown = render_markdown(report)
        target = sources[-1].with_suffix(".md" if len(sources) == 1 else ".merged.md")
        target.write_text(markdown + "\n")
        print(markdown)
        return 0

    rounds = args.rounds or (3 if args.quick else 5)
    warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    duration = args.duration if args.duration is not None else (1.5 if args.quick else 10.0)
    build = Path(args.build)
    load = build / "bench/load/avant-load"
    all_scenarios = scenarios(build)
    chosen = [n for name in args.scenarios for n in GROUPS.get(name, [name])] or \
        [n for n, s in all_scenarios.items() if s.default]
    unknown = [s for s in chosen if s not in all_scenarios]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {list(all_scenarios)}, "
                     f"groups: {GROUPS}")
    cores = {"server": 0, "load": 1 if (os.cpu_count() or 1) > 1 else 0}

    def log(text: str) -> None:
        print(text, flush=True)

    if args.dry_run:
        for name in chosen:
            s = all_scenarios[name]
            log(f"{name}: {s.description}" + (f" [pending: {s.pending}]" if s.pending else ""))
            for case in s.cases:
                if not args.case or case_label(case) in args.case:
                    log(f"  {case_label(case)}: {rounds} rounds x ({s.a[0]}, {s.b[0]}), "
                        f"{warmup} s + {duration} s each")
        return 0

    if args.profile:
        return write_profiles([all_scenarios[n] for n in chosen], load, cores, args)

    for name in chosen:
        if all_scenarios[name].pending:
            continue
        for tool in uses(all_scenarios[name]):
            path = {"avant-load": load, "avant-udp-load": load.parent / "avant-udp-load",
                    "avant-ipc-load": load.parent / "avant-ipc-load"}.get(tool, Path(tool))
            if not (path.exists() if path.is_absolute() else shutil.which(tool)):
                parser.error(f"{tool} is missing: build the release preset and run "
                             f"scripts/install-deps.sh (make bench does both)")
    if rounds < 3:
        log(f"bench: {rounds} round(s) — fewer than 3 rounds is a smoke test, not a comparison")

    started = datetime.datetime.now(datetime.timezone.utc)
    report = {
        "schema": SCHEMA_VERSION,
        "revision": revision(),
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "cores": cores,
        "versions": {"nginx": command_version(["nginx", "-v"]),
                     "openssl": command_version(["openssl", "version"]),
                     "node": command_version(["node", "--version"]),
                     "wrk": command_version(["wrk", "--version"]),
                     "valgrind": command_version(["valgrind", "--version"])},
        "method": {"rounds": rounds, "warmup": warmup, "duration": duration,
                   "client_bound_share": CLIENT_BOUND_SHARE},
        "scenarios": [],
    }
    for name in chosen:
        s = all_scenarios[name]
        if s.pending:
            log(f"bench: {name}: pending ({s.pending})")
            report["scenarios"].append({"name": name, "description": s.description,
                                        "pending": s.pending})
            continue
        log(f"bench: {name}: {s.description}")
        report["scenarios"].append(measure_scenario(s, load, cores, rounds, warmup, duration,
                                                    args.case, log))
    if not args.no_callgrind and "echo" in chosen and shutil.which("valgrind"):
        log("bench: callgrind instructions per message")
        s = all_scenarios["echo"]
        low, high = (200, 1200) if args.quick else (1000, 6000)
        report["callgrind"] = {label: instructions_per_message(argv, load, cores, low, high)
                               for label, argv in (s.a, s.b)}
    http_chosen = [n for n in chosen if n in ("http-nginx", "http-ceiling")]
    if not args.no_callgrind and http_chosen and shutil.which("valgrind"):
        log("bench: callgrind instructions per HTTP request")
        low, high = (200, 1200) if args.quick else (1000, 6000)
        calls = report.setdefault("callgrind", {})
        for label, argv in (all_scenarios["http-ceiling"].a, all_scenarios["http-ceiling"].b):
            calls[f"{label} (GET, keep-alive)"] = instructions_per_message(
                argv, load, cores, low, high, HTTP_GET)
    if not args.no_callgrind and "ws-ceiling" in chosen and shutil.which("valgrind"):
        log("bench: callgrind instructions per WebSocket message")
        low, high = (200, 1200) if args.quick else (1000, 6000)
        calls = report.setdefault("callgrind", {})
        s = all_scenarios["ws-ceiling"]
        for (label, argv), key in ((s.a, "A"), (s.b, "B")):
            case = case_for(dict(s.cases[0], connections=1), key)
            calls[f"{label} ({case['mode']} {case['size']} B)"] = instructions_per_message(
                argv, load, cores, low, high, case)
    if not args.no_callgrind and "proto" in chosen and shutil.which("valgrind"):
        log("bench: callgrind instructions per protobuf package")
        low, high = (200, 1200) if args.quick else (1000, 6000)
        calls = report.setdefault("callgrind", {})
        s = all_scenarios["proto"]
        for (label, argv), key in ((s.a, "A"), (s.b, "B")):
            case = case_for(dict(s.cases[0], connections=1), key)
            calls[f"{label} ({case['mode']} {case['size']} B)"] = instructions_per_message(
                argv, load, cores, low, high, case)
        # The raw echo beside them: the floor of any echo over TCP.
        echo = all_scenarios["echo"]
        calls[f"{echo.b[0]} (raw 64 B)"] = instructions_per_message(echo.b[1], load, cores, low,
                                                                    high)
    if not args.no_micro:
        log("bench: micro-benchmarks")
        report["micro"] = micro_benchmarks(build, 3 if args.quick else 5, log)

    problems = validate_report(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = started.strftime("%Y%m%dT%H%M%SZ")
    (out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    markdown = render_markdown(report)
    (out / f"{stem}.md").write_text(markdown + "\n")
    log(markdown)
    log(f"bench: report in {out / (stem + '.md')} and .json")
    if problems:
        log("bench: the report is not well formed: " + "; ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
