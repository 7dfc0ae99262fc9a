"""An IPC mesh across three network namespaces, with faults; the mesh heals and loses nothing.

    /usr/bin/python3 netns_faults.py <avant-ipc-node binary> <folder of this script>

Three namespaces, one `avant-ipc-node` each on its own address (10.9.0.1, .2, .3), joined by veth
pairs through a bridge in a fourth namespace (the "switch", 10.9.0.254), so that nothing touches
the host's own network. 0.0.0.1 reaches 0.0.0.2 through fault_proxy.py, which runs in the
switch; every other pair is direct. Each node sends bursts of numbered packages to both others
(SIGUSR1 asks for one more burst) while one fault at a time is injected:
    the switch port of 0.0.0.2 set down for 2 s, then up again;
    0.0.0.3 killed (SIGKILL) and started again;
    the proxy stalls 2 s (longer than the peer timeout: the link is closed and dialed again);
    the proxy cuts the connection inside a frame;
    the proxy delays every chunk 300 ms for 1.5 s;
    the proxy reorders connects (a held connect reaches 0.0.0.2 after a later one).
After each, the test waits until every package of every sender still alive has reached its
receiver (any incarnation of it): the mesh's delivery rule (docs/ipc.md, "Delivery"). It prints
a table: fault, time to heal (from the fault's end to the link's "up" line), packages lost. The
lengths of the faults are slept on purpose: they are the faults, not waits for a condition.

Needs root and `ip netns` (iproute2). Where namespaces cannot be made it prints why and exits 77
(CTest: skipped), unless AVANT_REQUIRE_NETNS=1 (set by .ci/run), when that is a failure.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 30.0
SKIP = 77
BURST = 100
NODE_FLAGS = ["--send", str(BURST), "--interval-ms", "5", "--log-received", "--heartbeat-ms", "200",
              "--peer-timeout-ms", "1000", "--handshake-timeout-ms", "1000",
              "--backoff-max-ms", "400"]
IDS = ["0.0.0.1", "0.0.0.2", "0.0.0.3"]
PORT = {"0.0.0.1": 7001, "0.0.0.2": 7002, "0.0.0.3": 7003}
PROXY_PORT = 7102
RECV = re.compile(r"recv (\S+) (\S+)#(\d+)#(\d+)$")


def fail(message: str) -> None:
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=DEADLINE)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


class Lines:
    """A process's output lines with the time each arrived, read on a thread."""

    def __init__(self, stream, log) -> None:
        self.lines: list[tuple[float, str]] = []
        self.changed = threading.Condition()
        self.log = log

        def read() -> None:
            for line in stream:
                with self.changed:
                    self.lines.append((time.monotonic(), line.rstrip("\n")))
                    self.changed.notify_all()

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, predicate, deadline: float = DEADLINE) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.lines), deadline)


class Node:
    """One avant-ipc-node in its namespace; its receipts are kept across restarts (by the test)."""

    def __init__(self, binary: str, ns: str, app: str, mesh: str) -> None:
        self.app = app
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", ns, binary, "--ipc", mesh, "--app", app, *NODE_FLAGS],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = Lines(self.process.stdout, f"{app} stdout")
        self.err = Lines(self.process.stderr, f"{app} stderr")
        started = self.out.wait_for(
            lambda ls: any("avant-ipc-node:" in l for _, l in ls) or self.process.poll() is not None)
        if not started or self.process.poll() is not None:
            raise RuntimeError(f"{app} did not start: {self.err.lines}")
        self.pid = self.process.pid  # the `ip netns exec` process: it execs the node in place
        self.bursts = 1

    def burst(self) -> None:
        self.process.send_signal(signal.SIGUSR1)
        self.bursts += 1

    def sent(self) -> int:
        return self.bursts * BURST

    def receipts(self) -> set[tuple[int, int]]:
        """(sender pid, seq) of every package it logged, whoever sent it."""
        got = set()
        for _, line in self.out.lines:
            m = RECV.match(line)
            if m:
                got.add((int(m.group(3)), int(m.group(4))))
        return got

    def events(self, pattern: re.Pattern) -> list[float]:
        return [t for t, line in self.err.lines if pattern.search(line)]


def namespaces_usable(probe: str) -> str | None:
    """None when namespaces work here, else why not."""
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_SYS_ADMIN"
    try:
        done = ip("netns", "add", probe, check=False)
    except FileNotFoundError:
        return "no `ip` (iproute2)"
    if done.returncode != 0:
        return f"ip netns add: {done.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return None


def body(binary: str, here: str) -> None:
    tag = f"av{os.getpid() % 100000}"
    why = namespaces_usable(f"{tag}-probe")
    if why is not None:
        if os.environ.get("AVANT_REQUIRE_NETNS") == "1":
            fail(f"network namespaces are required here (AVANT_REQUIRE_NETNS=1) but: {why}")
        print(f"SKIP: network namespaces cannot be made here: {why}")
        sys.exit(SKIP)

    sw = f"{tag}-sw"
    ns = {app: f"{tag}-n{i + 1}" for i, app in enumerate(IDS)}
    nodes: dict[str, Node] = {}
    gone: list[Node] = []  # killed incarnations: their receipts still count
    proxy = None
    folder = tempfile.mkdtemp(prefix="avant-netns-")
    try:
        for name in [sw, *ns.values()]:
            ip("netns", "add", name)
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "addr", "add", "10.9.0.254/24", "dev", "br0")
        ip("-n", sw, "link", "set", "br0", "up")
        ip("-n", sw, "link", "set", "lo", "up")
        for i, app in enumerate(IDS, start=1):
            ip("link", "add", f"{tag}v{i}", "netns", ns[app], "type", "veth", "peer", "name",
               f"p{i}", "netns", sw)
            ip("-n", ns[app], "link", "set", f"{tag}v{i}", "name", "eth0")
            ip("-n", ns[app], "addr", "add", f"10.9.0.{i}/24", "dev", "eth0")
            ip("-n", ns[app], "link", "set", "eth0", "up")
            ip("-n", ns[app], "link", "set", "lo", "up")
            ip("-n", sw, "link", "set", f"p{i}", "master", "br0")
            ip("-n", sw, "link", "set", f"p{i}", "up")
        print("namespaces: switch 10.9.0.254 with 0.0.0.1, 0.0.0.2, 0.0.0.3 on 10.9.0.1..3",
              flush=True)

        proxy = subprocess.Popen(
            ["ip", "netns", "exec", sw, sys.executable, os.path.join(here, "fault_proxy.py"),
             "10.9.0.254", str(PROXY_PORT), "10.9.0.2", str(PORT["0.0.0.2"])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        proxy_out = Lines(proxy.stdout, "proxy")
        if not proxy_out.wait_for(lambda ls: any(l == "ready" for _, l in ls)):
            raise RuntimeError("the proxy did not start")

        def tell_proxy(command: str) -> None:
            proxy.stdin.write(command + "\n")
            proxy.stdin.flush()
            if not proxy_out.wait_for(lambda ls: any(l == f"ok {command}" for _, l in ls)):
                raise RuntimeError(f"the proxy did not take {command!r}")

        meshes = {}
        for i, app in enumerate(IDS, start=1):
            entries = [{"app_id": a, "ip": f"10.9.0.{j}", "port": PORT[a]}
                       for j, a in enumerate(IDS, start=1)]
            if app == "0.0.0.1":  # 0.0.0.1 reaches 0.0.0.2 through the proxy
                entries[1] = {"app_id": "0.0.0.2", "ip": "10.9.0.254", "port": PROXY_PORT}
            meshes[app] = os.path.join(folder, f"ipc-{i}.json")
            with open(meshes[app], "w", encoding="utf-8") as f:
                json.dump(entries, f)
        for app in IDS:
            nodes[app] = Node(binary, ns[app], app, meshes[app])

        up = {a: re.compile(r"\[ipc\] peer " + re.escape(a) + r" up") for a in IDS}
        down = {a: re.compile(r"\[ipc\] peer " + re.escape(a) + r" down") for a in IDS}

        def lost(deadline: float = DEADLINE) -> int:
            """Waits until every package of every living sender reached both other apps; the
            number still missing at the deadline."""
            until = time.monotonic() + deadline
            while True:
                missing = 0
                for sender in nodes.values():
                    want = {(sender.pid, i) for i in range(sender.sent())}
                    for app in IDS:
                        if app == sender.app:
                            continue
                        got = nodes[app].receipts()
                        for old in gone:
                            if old.app == app:
                                got |= old.receipts()
                        missing += len(want - got)
                if missing == 0 or time.monotonic() >= until:
                    return missing
                nodes["0.0.0.1"].out.wait_for(lambda ls, n=len(nodes["0.0.0.1"].out.lines):
                                              len(ls) > n, 0.2)

        def heal(pairs: list[tuple[str, str]], start: float, end: float, breaks: bool) -> str:
            """Time from `end` to the last of `pairs`' links up again, or "stayed up". With
            `breaks`, the fault must have taken each link down (its line may still be on its
            way: it is waited for)."""
            worst = None
            for node, peer in pairs:
                if breaks and not nodes[node].err.wait_for(
                        lambda ls, p=peer: any(t >= start and down[p].search(l) for t, l in ls),
                        10.0):
                    raise RuntimeError(f"{node}'s link with {peer} never went down")
                downs = [t for t in nodes[node].events(down[peer]) if t >= start]
                if not downs:
                    continue
                if not nodes[node].err.wait_for(
                        lambda ls: any(t > downs[0] and up[peer].search(l) for t, l in ls)):
                    return "never"
                ups = [t for t in nodes[node].events(up[peer]) if t > downs[0]]
                worst = max(worst or 0.0, ups[0] - end)
            return "stayed up" if worst is None else f"{max(worst, 0.0) * 1000:.0f} ms"

        table = []
        for app in IDS:
            for peer in IDS:
                if peer != app and not nodes[app].err.wait_for(
                        lambda ls, p=peer: any(up[p].search(l) for _, l in ls)):
                    raise RuntimeError(f"{app} never saw {peer} up")
        table.append(("none (the mesh forms)", "-", lost()))

        def phase(name: str, pairs, inject, remove, breaks: bool = True,
                  instant: bool = False) -> None:
            """One burst per node, one fault. Time to heal from the fault's end, or from its
            start for an instant fault (a kill, a cut: the mesh is on its own from then)."""
            for node in nodes.values():
                node.burst()
            start = time.monotonic()
            inject()
            remove()
            end = start if instant else time.monotonic()
            healed = heal(pairs, start, end, breaks)
            table.append((name, healed, lost()))
            if os.environ.get("AVANT_NETNS_VERBOSE") == "1":
                print(f"{start:.3f}..{end:.3f} {name}")
            print(f"{name}: healed {healed}, lost {table[-1][2]}", flush=True)

        phase("0.0.0.2's switch port down 2 s, then up",
              [("0.0.0.1", "0.0.0.2"), ("0.0.0.3", "0.0.0.2")],
              lambda: ip("-n", sw, "link", "set", "p2", "down"),
              lambda: (time.sleep(2.0), ip("-n", sw, "link", "set", "p2", "up")))

        def kill_three() -> None:
            old = nodes["0.0.0.3"]
            old.process.send_signal(signal.SIGKILL)
            old.process.wait(DEADLINE)
            gone.append(old)

        def restart_three() -> None:
            nodes["0.0.0.3"] = Node(binary, ns["0.0.0.3"], "0.0.0.3", meshes["0.0.0.3"])

        phase("0.0.0.3 killed, started again", [("0.0.0.1", "0.0.0.3"), ("0.0.0.2", "0.0.0.3")],
              kill_three, restart_three, instant=True)
        phase("proxy stalls 2 s", [("0.0.0.1", "0.0.0.2")], lambda: tell_proxy("stall"),
              lambda: (time.sleep(2.0), tell_proxy("pass")))

        def cut() -> None:
            tell_proxy("cut")
            if not proxy_out.wait_for(lambda ls: any(l.startswith("cut ") for _, l in ls)):
                raise RuntimeError("the proxy never cut")

        phase("proxy cuts inside a frame", [("0.0.0.1", "0.0.0.2")], cut, lambda: None,
              instant=True)
        phase("proxy delays 300 ms for 1.5 s", [("0.0.0.1", "0.0.0.2")],
              lambda: tell_proxy("delay 300"), lambda: (time.sleep(1.5), tell_proxy("pass")),
              breaks=False)

        def reorder() -> None:
            tell_proxy("hold")
            cut()  # the link breaks; 0.0.0.1 dials again and that connect is held

        def released() -> None:
            if not proxy_out.wait_for(lambda ls: any(l.startswith("released ") for _, l in ls)):
                raise RuntimeError("the held connect was never released")

        phase("proxy reorders connects", [("0.0.0.1", "0.0.0.2")], reorder, released,
              instant=True)

        print("\n| fault | time to heal | packages lost |\n|---|---|---|")
        for name, healed, missing in table:
            print(f"| {name} | {healed} | {missing} |")
        print(flush=True)

        for node in nodes.values():
            node.process.send_signal(signal.SIGTERM)
        for node in nodes.values():
            code = node.process.wait(DEADLINE)
            if code != 0:
                fail(f"{node.app} exited with {code} after SIGTERM")
            stats = [l for _, l in node.out.lines if l.startswith("stats ")]
            print("\n".join(f"{node.app}: {s}" for s in stats))
            for s in stats:
                if " rejected=0 " not in s or " dropped=0 " not in s:
                    fail(f"{node.app} dropped or rejected packages: {s}")
        if os.environ.get("AVANT_NETNS_VERBOSE") == "1":
            for node in [*gone, *nodes.values()]:
                for t, line in node.err.lines:
                    print(f"{t:.3f} {node.app}: {line}")
            for t, line in proxy_out.lines:
                print(f"{t:.3f} proxy: {line}")
        total = sum(missing for _, _, missing in table)
        if total != 0:
            fail(f"{total} packages never arrived")
        links = nodes["0.0.0.1"].events(down["0.0.0.2"])
        print(f"0.0.0.1 saw its link with 0.0.0.2 go down {len(links)} times; every package arrived")
    finally:
        for node in [*nodes.values(), *gone]:
            if node.process.poll() is None:
                node.process.kill()
        if proxy is not None and proxy.poll() is None:
            proxy.kill()
        for name in [sw, *ns.values()]:
            ip("netns", "del", name, check=False)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    try:
        body(sys.argv[1], sys.argv[2])
    except RuntimeError as e:
        fail(str(e))
