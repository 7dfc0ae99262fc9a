"""avant-cli against the server `make run` starts: `avant -c examples/main.ini`, as it is.

    /usr/bin/python3 avant_cli_e2e.py <avant binary> <avant-cli binary>

Checked, with the config's ports moved to ephemeral ones (avant_process): `avant-cli echo` over
[listener.proto] (TCP), [listener.proto-tls] (TLS, the certificate checked against its CA) and
[listener.proto-ws] (WebSocket) prints the echo example's answer; `send` turns protobuf JSON into
a package (bytes with a NUL and 0xff come back as sent) and shows the answer as JSON; `bench`
prints its JSON line with messages and no errors; the mistakes exit as documented: bad JSON and a
refused connection 1 with a message, a usage mistake 2.
"""
import base64
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 30.0
SITE = re.compile(r"avant: serving .* on (http)://127\.0\.0\.1:(\d+)/")
ANSWER = 'PROTO_CMD_CS_RES_EXAMPLE ProtoCSResExample { testContext: "hello from the cli" }'


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def cli(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=DEADLINE)


def body(avant_binary: str, cli_binary: str) -> None:
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    avant = avant_process.Avant(avant_binary, os.path.join(source, "examples", "main.ini"), SITE)
    try:
        cert = next(s.split("=", 1)[1] for s in avant_process.example_certificate()
                    if s.startswith("server.crt.pem="))
        tcp = str(avant.listener_port("proto"))
        for name, extra in [("tcp", ["--port", tcp]),
                            ("tls", ["--port", str(avant.listener_port("proto-tls")), "--tls",
                                     "--ca", cert, "--host", "localhost"]),
                            ("ws", ["--port", str(avant.listener_port("proto-ws")), "--ws"])]:
            got = cli(cli_binary, "echo", "--text", "hello from the cli", "--count", "3", *extra)
            check(got.returncode == 0, f"echo over {name}: {got.returncode} {got.stderr!r}")
            check(got.stdout.splitlines() == [ANSWER] * 3, f"echo over {name}: {got.stdout!r}")

        sent = bytes([0, 1, 0xFF]) + b"after a NUL"
        got = cli(cli_binary, "send", "--port", tcp, "--cmd", "CS_REQ_EXAMPLE", "--json",
                  json.dumps({"testContext": base64.b64encode(sent).decode()}), "--output", "json")
        check(got.returncode == 0, f"send: {got.returncode} {got.stderr!r}")
        answer = json.loads(got.stdout)
        check(answer["cmd"] == "PROTO_CMD_CS_RES_EXAMPLE", f"send: {answer}")
        check(base64.b64decode(answer["message"]["testContext"]) == sent, f"send: {answer}")

        got = cli(cli_binary, "bench", "--port", tcp, "--seconds", "1", "--connections", "4",
                  "--inflight", "2", "--output", "json")
        check(got.returncode == 0, f"bench: {got.returncode} {got.stderr!r}")
        result = json.loads(got.stdout)
        check(result["messages"] > 0 and result["errors"] == 0, f"bench: {result}")
        check("msgs/s" in got.stderr, f"bench's progress line: {got.stderr!r}")

        got = cli(cli_binary, "send", "--port", tcp, "--cmd", "0", "--json", '{"nope": 1}')
        check(got.returncode == 1 and "nope" in got.stderr, f"bad JSON: {got.returncode} "
                                                            f"{got.stderr!r}")
        got = cli(cli_binary, "echo", "--port", "1")
        check(got.returncode == 1 and "refused" in got.stderr, f"refused: {got.stderr!r}")
        got = cli(cli_binary, "echo", "--port", "no")
        check(got.returncode == 2 and "usage" in got.stderr, f"usage: {got.stderr!r}")
    finally:
        code = avant.stop()
    check(code == 0, f"exit status {code} after SIGTERM")
    print("ok: avant-cli echo (tcp, tls, ws), send with JSON, bench, and its errors against "
          "make run's configuration")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2]))
