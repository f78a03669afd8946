"""The inbound listener, over real SMTP and LMTP on loopback: mail for the return addresses only, stored
before 250, a size cap and a rate cap that refuse without losing anything, and it keeps serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiosmtplib
import pytest

from newsletter.config.bounce_checks import RETURN_TOKEN_CHARS
from newsletter.config.settings import BouncesSettings
from newsletter.inbound.listener import ReturnListener
from newsletter.inbound.report import ReturnPattern
from newsletter.inbound.spool import Spool
from subscribers.verp import ReturnAddresses

pytestmark = pytest.mark.anyio
DOMAIN = "bounces.news.example.org"
SETTINGS = BouncesSettings(domain=DOMAIN, listen_port=0, per_minute=600, max_message_bytes=100_000)
MADE = ReturnAddresses(b"k" * 32, DOMAIN, "bounces", "unsubscribe", 90)
BOUNCE = MADE.bounce_address(42, "0123456789abcdef", 7)
MESSAGE = b"From: MAILER-DAEMON@relay.example.net\r\nSubject: Undelivered Mail\r\n\r\nIt bounced.\r\n"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Running:
    def __init__(self, spool: Spool, listener: ReturnListener, port: int) -> None:
        self.spool, self.listener, self.port = spool, listener, port
        self.wakes = 0

    async def send(self, recipients: list[str], data: bytes = MESSAGE) -> tuple[dict[str, tuple[int, str]], str]:
        """One message with the null sender, as bounces have: (refused recipients, the reply to DATA)."""
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port, timeout=30)
        await client.connect()
        try:
            await client.mail("")
            refused: dict[str, tuple[int, str]] = {}
            for recipient in recipients:
                try:
                    await client.rcpt(recipient)
                except aiosmtplib.SMTPRecipientRefused as error:
                    refused[recipient] = (error.code, error.message)
            if len(refused) == len(recipients):
                return refused, ""
            reply = await client.data(data)
            return refused, reply.message
        finally:
            client.close()


async def start(tmp_path: Path, settings: BouncesSettings = SETTINGS) -> Running:
    spool = Spool(tmp_path / "spool")
    spool.create()
    pattern = ReturnPattern(DOMAIN, "bounces", "unsubscribe", RETURN_TOKEN_CHARS)
    running: Running
    listener = ReturnListener(replace(settings, listen_host="127.0.0.1"), pattern, spool,
                              lambda: setattr(running, "wakes", running.wakes + 1))
    running = Running(spool, listener, await listener.start())
    return running


@pytest.fixture
async def listening(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start(tmp_path)
    yield running
    await running.listener.close()


async def test_a_message_for_a_return_address_is_on_disk_when_the_client_hears_250(listening: Running) -> None:
    refused, reply = await listening.send([BOUNCE])
    assert refused == {}
    assert reply.startswith("2.0.0 Stored")
    [stored] = listening.spool.waiting()
    assert listening.spool.read(stored) == (MESSAGE, [BOUNCE])
    assert stored.stat().st_mode & 0o777 == 0o600
    assert listening.wakes == 1


@pytest.mark.parametrize("recipient", ["postmaster@bounces.news.example.org", "someone@example.com",
                                       "unsubscribe@bounces.news.example.org",
                                       BOUNCE.replace(DOMAIN, "example.com")],
                         ids=["postmaster", "elsewhere", "no-token", "other-domain"])
async def test_mail_for_any_other_address_is_refused_so_nothing_is_relayed(listening: Running,
                                                                           recipient: str) -> None:
    refused, _ = await listening.send([recipient])
    assert refused[recipient][0] == 550
    assert listening.spool.waiting() == []


async def test_a_50_mb_message_is_refused_whole_nothing_is_kept_and_the_next_one_is_taken(
        listening: Running, caplog: pytest.LogCaptureFixture) -> None:
    huge = MESSAGE + (b"x" * 998 + b"\r\n") * 50_000
    with caplog.at_level(logging.WARNING), pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await listening.send([BOUNCE], huge)
    assert refused.value.code == 552
    assert listening.spool.waiting() == []
    assert any("larger than bounces.max_message_bytes (100000) was refused" in r.getMessage()
               for r in caplog.records)
    assert (await listening.send([BOUNCE]))[0] == {}
    assert len(listening.spool.waiting()) == 1


async def test_a_flood_of_10000_messages_in_a_minute_is_capped_with_one_log_line_and_others_still_served(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    running = await start(tmp_path, replace(SETTINGS, per_minute=600))
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=running.port, timeout=30)
    await client.connect()
    accepted = 0
    refusals: list[int] = []
    with caplog.at_level(logging.WARNING):
        for _ in range(10_000):
            try:
                await client.mail("")
            except aiosmtplib.SMTPSenderRefused as error:
                refusals.append(error.code)
                continue
            await client.rcpt(BOUNCE)
            await client.data(MESSAGE)
            accepted += 1
    await client.quit()
    # 451 is "try again later": a real relay keeps each of those messages and sends it again later.
    assert (accepted, len(refusals), set(refusals)) == (600, 9_400, {451})
    assert len(running.spool.waiting()) == 600
    neighbour = aiosmtplib.SMTP(hostname="127.0.0.1", port=running.port, source_address=("127.0.0.2", 0))
    await neighbour.connect()
    assert (await neighbour.mail(""))[0] == 250  # another client is still served at once
    await neighbour.quit()
    lines = [r.getMessage() for r in caplog.records if "messages in a minute" in r.getMessage()]
    assert lines == ["inbound: client 127.0.0.1 sent more than 600 messages in a minute; the rest are told to "
                     "try again later (451)"]
    await running.listener.close()


async def test_the_lmtp_listener_answers_data_once_per_recipient(tmp_path: Path) -> None:
    running = await start(tmp_path, replace(SETTINGS, protocol="lmtp"))
    other = MADE.unsubscribe_address(43, "0123456789abcdef")
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)

    async def say(line: bytes) -> list[bytes]:
        writer.write(line + b"\r\n")
        return [await reader.readline()]

    assert (await reader.readline()).startswith(b"220")
    writer.write(b"LHLO relay.example.net\r\n")
    while not (line := await reader.readline()).startswith(b"250 "):
        assert line.startswith(b"250-")
    assert (await say(b"MAIL FROM:<>"))[0].startswith(b"250")
    for recipient in (BOUNCE, other):
        assert (await say(f"RCPT TO:<{recipient}>".encode()))[0].startswith(b"250")
    assert (await say(b"DATA"))[0].startswith(b"354")
    writer.write(MESSAGE + b".\r\n")
    replies = [await reader.readline(), await reader.readline()]
    assert all(reply.startswith(b"250 2.0.0 Stored") for reply in replies)
    writer.close()
    await running.listener.close()
    assert len(running.spool.waiting()) == 1

