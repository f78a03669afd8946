"""The fastest client a round trip allows, for comparison: raw asyncio, no database, one fixed message.

Each of `connections` connections says EHLO once, then for every message writes the body and "." together
with the next message's MAIL, RCPT and DATA (RFC 2920 PIPELINING), and reads the four replies: one round
trip per message. `newsletter send` does the same dialogue and also personalises each message and writes
each outcome to its ledger before the next message's "."; this client shows what the wire alone allows.

As a command (`python bench/pipelined_client.py PORT CONNECTIONS MESSAGES --body FILE`) it sends the bytes of
FILE (a dot-stuffed message ending in CRLF, such as a real issue's) and prints `sent seconds`, so that a
benchmark can time it as a whole process, start-up included, beside `newsletter send` (`send_whole.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path


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


async def _run(port: int, connections: int, messages: int, body: bytes) -> tuple[int, float]:
    numbers = itertools.count()
    start = time.perf_counter()
    sent = await asyncio.gather(*(_connection(port, numbers, messages, body) for _ in range(connections)))
    return sum(sent), time.perf_counter() - start


def pipelined_client(port: int, connections: int, messages: int, size: int,
                     body: bytes | None = None) -> tuple[int, float]:
    """Send `messages` messages of about `size` bytes (or `body`, stuffed, ending in CRLF) over
    `connections` connections; (sent, seconds)."""
    if body is None:
        line = b"x" * 76 + b"\r\n"
        body = b"Subject: raw pipelined client\r\n\r\n" + line * max(1, size // len(line))
    return asyncio.run(_run(port, connections, messages, body))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Send one message's bytes many times, pipelined, to 127.0.0.1.")
    parser.add_argument("port", type=int)
    parser.add_argument("connections", type=int)
    parser.add_argument("messages", type=int)
    parser.add_argument("--body", type=Path, required=True, help="the message: dot-stuffed, ending in CRLF")
    options = parser.parse_args(argv)
    body = options.body.read_bytes()
    sent, seconds = pipelined_client(options.port, options.connections, options.messages, len(body), body)
    print(sent, f"{seconds:.6f}")
    return 0 if sent == options.messages else 1


if __name__ == "__main__":
    sys.exit(main())
