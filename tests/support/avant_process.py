"""The assembled `avant` started by an end-to-end script: its banner read, its standard error kept.

    import avant_process
    avant = avant_process.Avant(binary, config, BANNER, "server.task_type=STREAM_TASK")
    ... avant.port, avant.match (the banner's match), avant.stderr (lines so far) ...
    code = avant.stop()   # SIGTERM, then its exit status

The ports are moved to ephemeral ones (`--set server.port=0 server.https_port=0`, before the
caller's own --set values, which may override them). The banner is avant's first line on standard
output; `banner` must match it, and its group `port_group` is the port. The process's standard
error is registered with server_log, so a failing script prints it. Failures raise RuntimeError
(server_log.main reports them).
"""
import re
import signal
import subprocess
import threading

import server_log

DEADLINE = 15.0


class Avant:
    def __init__(self, binary: str, config: str, banner: re.Pattern, *sets: str,
                 port_group: int = 2):
        argv = [binary, "-c", config]
        for s in ("server.port=0", "server.https_port=0", *sets):
            argv += ["--set", s]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.stderr: list[str] = []
        self.banner = None
        ready = threading.Event()

        def out() -> None:
            self.banner = self.process.stdout.readline()
            ready.set()
            self.process.stdout.read()

        def err() -> None:
            for line in self.process.stderr:
                self.stderr.append(line)

        threading.Thread(target=out, daemon=True).start()
        threading.Thread(target=err, daemon=True).start()
        server_log.watch(" ".join(argv), lambda: "".join(self.stderr))
        if not ready.wait(DEADLINE):
            raise RuntimeError("no banner from avant")
        self.match = banner.match(self.banner or "")
        if self.match is None:
            raise RuntimeError(f"unexpected banner {self.banner!r}; stderr: {self.stderr}")
        self.port = int(self.match.group(port_group))

    def stop(self) -> int:
        """SIGTERM, then the exit status; kills it and raises when it does not stop in time."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError("avant did not stop within the deadline after SIGTERM") from None
