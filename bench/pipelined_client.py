"""The fastest client a round trip allows, for comparison: raw asyncio, no database, one fixed message.

Each of `connections` connections says EHLO once, then for every message writes the body and "." together
with the next message's MAIL, RCPT and DATA (RFC 2920 PIPELINING), and reads the four replies: one round
trip per message. `newsletter send` does the same dialogue and also personalises each message and writes
each outcome to its ledger before the next message's "."; this client shows what the wire alone allows.
"""

from __future__ import annotations

import asyncio
import itertools
import time


async def _reply(reader: asyncio.StreamReader) -> int:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        if line[3:4] != b"-":
            return int(line[:3])


def _envelope(number: int) -> bytes:
    return (b"MAIL FROM:<letters@news.example.org>\r\nRCPT TO:<raw%d@example.com>\r\nDATA\r\n" % number)


async def _connection(port: int, numbers: itertools.count[int], total: int, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _reply(reader)
    writer.write(b"EHLO bench.example.org\r\n")
    await _reply(reader)
    sent = 0
    number = next(numbers)
    if number < total:
        writer.write(_envelope(number))
        codes = [await _reply(reader) for _ in range(3)]
        while number < total:
            if codes != [250, 250, 354]:
                raise RuntimeError(f"the server refused a message: {codes}")
            following = next(numbers)
            writer.write(body + b".\r\n" + (_envelope(following) if following < total else b""))
            if await _reply(reader) != 250:
                raise RuntimeError("the server refused a message's data")
            sent += 1
            number = following
            if number < total:
                codes = [await _reply(reader) for _ in range(3)]
    writer.write(b"QUIT\r\n")
    await _reply(reader)
    writer.close()
    return sent


async def _run(port: int, connections: int, messages: int, size: int) -> tuple[int, float]:
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: raw pipelined client\r\n\r\n" + line * max(1, size // len(line))
    numbers = itertools.count()
    start = time.perf_counter()
    sent = await asyncio.gather(*(_connection(port, numbers, messages, body) for _ in range(connections)))
    return sum(sent), time.perf_counter() - start


def pipelined_client(port: int, connections: int, messages: int, size: int) -> tuple[int, float]:
    """Send `messages` messages of about `size` bytes over `connections` connections; (sent, seconds)."""
    return asyncio.run(_run(port, connections, messages, size))
