"""A TCP proxy that injects faults, for the IPC fault test (netns_faults.py).

    /usr/bin/python3 fault_proxy.py LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT

Forwards every connection made to LISTEN to TARGET, both ways. Commands on standard input, one per
line, change what it does from then on:
    pass        forward at once (the start)
    delay MS    hold every chunk MS milliseconds before forwarding it (order kept)
    stall       forward nothing, keep every connection open; `pass` lets it all through
    cut         the next chunk from the client side is forwarded only in part (its first 13 bytes:
                every IPC frame is longer, so the cut is inside a frame), then both sides of that
                connection are closed
    hold        the next connection accepted waits unconnected until one accepted after it has
                carried data, and is connected to the target only then (connects reordered)
Each event is a line on standard output ("ready", "accepted 3", "cut 3 after 13 bytes", "released
4 after 5") so that the test can wait for it.
"""
import asyncio
import sys
import threading

CUT_AT = 13


def say(line: str) -> None:
    print(line, flush=True)


class Proxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.delay = 0.0
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.cut_next = False
        self.hold_next = False
        self.held: list[tuple[int, asyncio.Future]] = []
        self.count = 0

    def command(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        if words[0] == "pass":
            self.delay = 0.0
            self.flowing.set()
        elif words[0] == "delay":
            self.delay = int(words[1]) / 1000.0
        elif words[0] == "stall":
            self.flowing.clear()
        elif words[0] == "cut":
            self.cut_next = True
        elif words[0] == "hold":
            self.hold_next = True
        else:
            say(f"unknown command {line!r}")
            return
        say(f"ok {line}")

    async def pump(self, n: int, reader, writer, closers, client_side: bool) -> None:
        pending: asyncio.Queue = asyncio.Queue()

        async def forward() -> None:
            while True:
                due, data = await pending.get()
                if data is None:
                    break
                wait = due - asyncio.get_running_loop().time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()

        forwarder = asyncio.create_task(forward())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if client_side and self.cut_next:
                    # In the queue, behind what is still delayed or stalled: the cut falls inside
                    # this chunk's first frame, never before the chunks that came first.
                    self.cut_next = False
                    pending.put_nowait((asyncio.get_running_loop().time() + self.delay,
                                        data[:CUT_AT]))
                    say(f"cut {n} after {CUT_AT} bytes")
                    break
                if client_side:
                    for _, started in list(self.held):
                        if not started.done():
                            started.set_result(n)
                pending.put_nowait((asyncio.get_running_loop().time() + self.delay, data))
        except (ConnectionError, OSError):
            pass
        finally:
            pending.put_nowait((0, None))
            try:
                await forwarder
            except (ConnectionError, OSError):
                pass
            for c in closers:
                c.close()

    async def serve(self, client_reader, client_writer) -> None:
        self.count += 1
        n = self.count
        say(f"accepted {n}")
        if self.hold_next:
            self.hold_next = False
            started: asyncio.Future = asyncio.get_running_loop().create_future()
            self.held.append((n, started))
            later = await started
            self.held = [h for h in self.held if h[0] != n]
            say(f"released {n} after {later}")
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError as e:
            say(f"connect {n} failed: {e}")
            client_writer.close()
            return
        closers = [client_writer, target_writer]
        await asyncio.gather(
            self.pump(n, client_reader, target_writer, closers, True),
            self.pump(n, target_reader, client_writer, closers, False))


async def main(listen: tuple[str, int], target: tuple[str, int]) -> None:
    proxy = Proxy(target)
    loop = asyncio.get_running_loop()

    def read_commands() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(proxy.command, line.strip())
        loop.call_soon_threadsafe(stop.set)

    stop = asyncio.Event()
    server = await asyncio.start_server(proxy.serve, *listen)
    threading.Thread(target=read_commands, daemon=True).start()
    say("ready")
    async with server:
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    asyncio.run(main((sys.argv[1], int(sys.argv[2])), (sys.argv[3], int(sys.argv[4]))))
