"""The SMTP session reads replies in order however the server's bytes are cut into packets, refuses what
no SMTP server sends, and never carries bytes sent in the clear across STARTTLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.delivery.transports.smtp_session import (
    Reply,
    SessionRefused,
    SmtpSession,
    _parse_reply,
)

pytestmark = pytest.mark.anyio

# A reply: its code and its lines' texts (printable ASCII; a line's text never holds a line break).
texts = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.strip)
replies = st.tuples(st.integers(200, 599), st.lists(texts, min_size=1, max_size=4))


def wire(code: int, lines: list[str]) -> bytes:
    *first, last = lines
    return b"".join(f"{code}-{text}\r\n".encode() for text in first) + f"{code} {last}\r\n".encode()


@given(st.lists(replies, min_size=1, max_size=8), st.data())
def test_replies_cut_into_any_packets_are_read_whole_and_in_order(
        sent: list[tuple[int, list[str]]], data: st.DataObject) -> None:
    stream = b"".join(wire(code, lines) for code, lines in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    packets = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    unread, read = b"", []
    for packet in packets:
        unread += packet
        while True:
            reply, unread = _parse_reply(unread)
            if reply is None:
                break
            read.append(reply)
    assert read == [Reply(code, "\n".join(lines)) for code, lines in sent]
    assert unread == b""


@pytest.mark.parametrize(("received", "problem"), [
    (b"hello there\r\n", "out of protocol"),
    (b"25\r\n", "out of protocol"),
    (b"250-more\r\n" * 100, "too many lines"),
    (b"250 " + b"x" * 3000, "line too long"),
])
def test_what_no_smtp_server_sends_ends_the_connection(received: bytes, problem: str) -> None:
    with pytest.raises(ConnectionResetError, match=problem):
        _parse_reply(received)


@asynccontextmanager
async def scripted_server(answer: Callable[[bytes], list[bytes]]) -> AsyncIterator[int]:
    """A server that greets, then writes each command's answer (a list of packets, one write each,
    with a pause between them); its port."""

    talks: list[asyncio.Task[None]] = []

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 scripted.example.org ready\r\n")
        try:
            while line := await reader.readline():
                for packet in answer(line):
                    writer.write(packet)
                    await writer.drain()
                    await asyncio.sleep(0.001)
        except ConnectionError:
            pass  # the client aborted
        finally:
            writer.close()

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        talks.append(asyncio.ensure_future(talk(reader, writer)))

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.wait_for(asyncio.gather(*talks), 5)  # each ends once the client has hung up


def session(port: int, security: str = "none") -> SmtpSession:
    return SmtpSession("127.0.0.1", port, security=security, timeout=5.0, tls_context=None,
                       local_hostname="client.example.org")


async def test_a_pipelined_groups_replies_come_whole_when_the_server_sends_them_a_byte_at_a_time() -> None:
    group = b"250 2.1.0 sender ok\r\n550-5.1.1 no such\r\n550 5.1.1 mailbox\r\n554 5.5.1 no valid recipients\r\n"

    def answer(line: bytes) -> list[bytes]:
        if line.startswith(b"EHLO"):
            return [b"250-scripted.example.org\r\n250 PIPELINING\r\n"]
        if line.startswith(b"DATA"):
            return [bytes([byte]) for byte in group]
        return []

    async with scripted_server(answer) as port:
        client = session(port)
        await client.open()
        client.write(b"MAIL FROM:<a@example.org>\r\n", b"RCPT TO:<b@example.org>\r\n", b"DATA\r\n")
        assert await client.replies(3) == [Reply(250, "2.1.0 sender ok"), Reply(550, "5.1.1 no such\n5.1.1 mailbox"),
                                           Reply(554, "5.5.1 no valid recipients")]
        client.abort()


async def test_bytes_sent_in_the_clear_behind_the_reply_to_starttls_refuse_the_session() -> None:
    def answer(line: bytes) -> list[bytes]:
        if line.startswith(b"EHLO"):
            return [b"250-scripted.example.org\r\n250 STARTTLS\r\n"]
        if line.startswith(b"STARTTLS"):
            return [b"220 2.0.0 go ahead\r\n250 injected before the handshake\r\n"]
        return []

    async with scripted_server(answer) as port:
        client = session(port, security="starttls")
        with pytest.raises(SessionRefused, match="more than its reply to STARTTLS"):
            await client.open()
        client.abort()
