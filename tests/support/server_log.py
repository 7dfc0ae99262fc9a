"""What every integration script prints when it fails: the standard error of the servers it started.

A server built from a lab starter says why it failed on its standard error (the `TODO(NN): ...`
of a stub, an abort message, a sanitizer report); a script that prints only its own assertion
hides that. Each script registers the processes it starts and runs its body through main():

    import server_log
    server_log.watch(f"avant-echo {args}", lambda: "".join(lines))  # after Popen
    server_log.main(body)                                             # instead of body()

On any failure (a FAIL message and exit 1, an exception, an assertion), main() prints every
registered process's standard error, newest last, and exits 1.
"""
import sys
import traceback
from typing import Callable, List, Tuple

_watched: List[Tuple[str, Callable[[], str]]] = []


def watch(label: str, stderr_text: Callable[[], str]) -> None:
    """Registers a started process: label names it, stderr_text() returns what it wrote so far."""
    _watched.append((label, stderr_text))


def dump() -> None:
    for label, text in _watched:
        try:
            output = text()
        except (OSError, ValueError) as error:  # a closed file: nothing more to read
            output = f"(not readable: {error})"
        print(f"--- standard error of {label} ---")
        print(output.rstrip() if output.strip() else "(empty)")
    sys.stdout.flush()


def main(body: Callable[[], None]) -> None:
    try:
        body()
    except SystemExit as done:
        if done.code not in (0, None):
            dump()
        raise
    except Exception as error:  # pylint: disable=broad-except
        print(f"FAIL: {type(error).__name__}: {error}")
        traceback.print_exc(limit=3, file=sys.stdout)
        dump()
        sys.exit(1)
