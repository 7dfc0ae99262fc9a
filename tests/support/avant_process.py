"""The assembled `avant` started by an end-to-end script: its banner read, its standard error kept.

    import avant_process
    avant = avant_process.Avant(binary, config, BANNER, "server.task_type=STREAM_TASK")
    ... avant.port, avant.match (the banner's match), avant.stderr (lines so far) ...
    code = avant.stop()   # SIGTERM, then its exit status

The ports are moved to ephemeral ones (`--set server.port=0 server.https_port=0
server.other_udp_svr_port=0 ipc.listen_port=0` and `listener.NAME.port=0` for each [listener.NAME] of the config,
before the caller's own --set values, which may override them). When a listener of the config uses TLS, its certificate is an
example one made for this process by scripts/example-cert.sh (a caller's server.crt.pem and
server.key.pem replace it). The banner is avant's first line on standard
output; `banner` must match it, and its group `port_group` is the port. The process's standard
error is registered with server_log, so a failing script prints it. Failures raise RuntimeError
(server_log.main reports them).
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

import server_log

DEADLINE = 15.0


_certificate: list[str] = []


def example_certificate() -> list[str]:
    """--set values naming an example certificate and key, made once per process."""
    if not _certificate:
        folder = tempfile.mkdtemp(prefix="avant-cert-")
        atexit.register(shutil.rmtree, folder, True)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                              "example-cert.sh")
        done = subprocess.run([script, folder], capture_output=True, text=True, timeout=DEADLINE)
        if done.returncode != 0:
            raise RuntimeError(f"example-cert.sh: {done.stderr}")
        _certificate.extend([f"server.crt.pem={os.path.join(folder, 'example-cert.pem')}",
                             f"server.key.pem={os.path.join(folder, 'example-key.pem')}"])
    return list(_certificate)


class Avant:
    def __init__(self, binary: str, config: str, banner: re.Pattern, *sets: str,
                 port_group: int = 2):
        argv = [binary, "-c", config]
        with open(config, encoding="utf-8") as f:
            text = f.read()
        listeners = re.findall(r"^\s*\[listener\.([A-Za-z0-9_-]+)\]", text, re.M)
        moved = (["server.port=0", "server.https_port=0", "server.other_udp_svr_port=0",
                  "ipc.listen_port=0"] +
                 [f"listener.{n}.port=0" for n in listeners])
        if listeners and re.search(r"^\s*use_ssl\s*=\s*1", text, re.M):
            moved += example_certificate()
        for s in (*moved, *sets):
            argv += ["--set", s]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.stderr: list[str] = []
        self.banner = None
        self.lines: list[str] = []  # standard output so far
        self.changed = threading.Condition()
        ready = threading.Event()

        def out() -> None:
            for line in self.process.stdout:
                with self.changed:
                    if self.banner is None:
                        self.banner = line
                        ready.set()
                    self.lines.append(line)
                    self.changed.notify_all()
            ready.set()

        def err() -> None:
            for line in self.process.stderr:
                with self.changed:
                    self.stderr.append(line)
                    self.changed.notify_all()

        threading.Thread(target=out, daemon=True).start()
        threading.Thread(target=err, daemon=True).start()
        server_log.watch(" ".join(argv), lambda: "".join(self.stderr))
        if not ready.wait(DEADLINE):
            raise RuntimeError("no banner from avant")
        self.match = banner.match(self.banner or "")
        if self.match is None:
            raise RuntimeError(f"unexpected banner {self.banner!r}; stderr: {self.stderr}")
        self.port = int(self.match.group(port_group))

    def listener_port(self, name: str, deadline: float = DEADLINE) -> int:
        """The port of [listener.NAME], from its banner line ("avant: listener NAME: ... :PORT/")."""
        return self.line_port(re.compile(r"avant: listener " + re.escape(name) + r": .*:(\d+)/$"),
                              f"listener {name}", deadline)

    def udp_port(self, deadline: float = DEADLINE) -> int:
        """The UDP listener's port, from its line ("avant: UDP: ... on udp://IP:PORT/")."""
        return self.line_port(re.compile(r"avant: UDP: .* on udp://[0-9.]+:(\d+)/$"), "UDP",
                              deadline)

    def line_port(self, pattern: re.Pattern, what: str, deadline: float = DEADLINE) -> int:
        """The port (group 1) of the first standard output line that `pattern` matches."""

        def found():
            for line in self.lines:
                m = pattern.match(line.rstrip("\n"))
                if m:
                    return int(m.group(1))
            return None

        with self.changed:
            port = self.changed.wait_for(found, deadline)
        if port is None:
            raise RuntimeError(f"no line for {what}: {self.lines}")
        return port

    def wait_log(self, pattern: re.Pattern, count: int = 1, deadline: float = DEADLINE) -> None:
        """Waits until `count` standard error lines match `pattern` (search); raises after
        `deadline`."""

        def enough():
            return sum(1 for line in self.stderr if pattern.search(line)) >= count

        with self.changed:
            if not self.changed.wait_for(enough, deadline):
                raise RuntimeError(f"fewer than {count} log lines match {pattern.pattern!r}")

    def wait(self, deadline: float = DEADLINE) -> int | None:
        """The exit status once avant ends by itself within `deadline`, else None."""
        try:
            return self.process.wait(deadline)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int:
        """SIGTERM, then the exit status; kills it and raises when it does not stop in time."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError("avant did not stop within the deadline after SIGTERM") from None
