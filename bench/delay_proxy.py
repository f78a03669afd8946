"""A TCP proxy on loopback that delays each direction by a fixed time, keeping the order of the bytes:
a relay N ms away, on a kernel without netem.

`python bench/delay_proxy.py LISTEN_PORT TARGET_PORT ONE_WAY_MS` serves until killed; a round trip
through it costs twice ONE_WAY_MS more than loopback. Each chunk read is stamped on arrival and written
out ONE_WAY_MS later by a writer that takes chunks in order, so a burst of commands keeps its shape
(pipelined commands stay one round trip) and the delay does not grow with the load.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    chunks: deque[tuple[float, bytes]] = deque()
    arrived = asyncio.Event()
    ended = False

    async def send() -> None:
        while True:
            while not chunks:
                if ended:
                    return
                arrived.clear()
                await arrived.wait()
            due, data = chunks.popleft()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            chunks.append((loop.time() + delay, data))
            arrived.set()
    except OSError:
        pass
    ended = True
    arrived.set()
    try:
        await sender
        writer.close()
    except OSError:
        pass


async def _serve(listen: int, target: int, delay: float) -> None:
    async def connected(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        for writer in (client_writer, server_writer):
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(_pump(client_reader, server_writer, delay), _pump(server_reader, client_writer, delay))

    server = await asyncio.start_server(connected, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


@contextmanager
def delaying_proxy(listen: int, target: int, rtt_ms: float) -> Iterator[int]:
    """This proxy in a child process (so no benchmark's CPU delays its timers); yields `listen`."""
    child = subprocess.Popen([sys.executable, str(Path(__file__)), str(listen), str(target), str(rtt_ms / 2)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the delaying proxy did not start listening on port {listen}") from None
                time.sleep(0.05)
        yield listen
    finally:
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    listen_port, target_port, one_way_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    asyncio.run(_serve(listen_port, target_port, one_way_ms / 1000))
