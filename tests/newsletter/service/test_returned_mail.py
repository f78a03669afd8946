"""Returned mail inside `newsletter run`: a bounce sent to the listener ends with its reader suppressed, the
spool emptied, and a warning once the issue's bounces pass 3%."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import Engine

from newsletter.inbound import store
from newsletter.inbound.tables import Handling
from newsletter.service.returned_mail import ReturnedMail
from subscribers.tables import Status
from tests.conftest import Clock
from tests.newsletter.inbound.conftest import READERS, send_issue_to
from tests.newsletter.inbound.returned_mail import dsn
from tests.processes import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_bounce_to_the_listener_suppresses_its_reader_and_warns_above_the_ceiling(
        tmp_path: Path, engine: Engine, database_url: str, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    sent = send_issue_to(tmp_path, engine, database_url, clock, READERS,
                         bounces={"listen_port": 1, "listen_host": "127.0.0.1"})
    returned = ReturnedMail(sent.config, sent.sessions, sent.side)
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO):
        tasks = await returned.start(stop, port=0)  # any free port
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=returned.port, timeout=10)
        await client.connect()
        await client.mail("")
        await client.rcpt(sent.bounce_address(READERS[0]))
        await client.data(dsn(sent.bounce_address(READERS[0]), READERS[0]))
        await client.quit()
        for _ in range(200):
            if sent.status(READERS[0]) is Status.BOUNCED and not returned.spool.waiting():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        await returned.close()
    assert sent.status(READERS[0]) is Status.BOUNCED
    assert returned.spool.waiting() == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"issue {sent.issue_id}: bounces at 25.00% (1 of 4) are above 3%" in " ".join(warnings)


async def test_an_imap_mailbox_out_of_reach_is_one_warning_a_poll_and_run_carries_on(
        tmp_path: Path, engine: Engine, database_url: str, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    sent = send_issue_to(tmp_path, engine, database_url, clock, READERS,
                         bounces={"imap_host": "127.0.0.1", "imap_port": free_port(), "imap_security": "none",
                                  "imap_username": "returns"})
    returned = ReturnedMail(sent.config, sent.sessions, sent.side)
    assert (returned.listening, returned.polling) == (False, True)
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING):
        tasks = await returned.start(stop)
        for _ in range(200):
            if caplog.records:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("IMAP mailbox: cannot connect or log in (")
    assert line.endswith("; trying again in 5 minute(s)")


async def test_a_mail_bomb_of_forged_bounces_suppresses_nobody_and_the_listener_keeps_serving(
        tmp_path: Path, engine: Engine, database_url: str, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    sent = send_issue_to(tmp_path, engine, database_url, clock, READERS,
                         bounces={"listen_port": 1, "listen_host": "127.0.0.1", "per_minute": 300})
    returned = ReturnedMail(sent.config, sent.sessions, sent.side)
    stop = asyncio.Event()
    genuine = sent.bounce_address(READERS[0])
    local, _, domain = genuine.partition("@")
    with caplog.at_level(logging.INFO):
        tasks = await returned.start(stop, port=0)
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=returned.port, timeout=30)
        await client.connect()
        refused = 0
        for n in range(10_000):
            # A genuine token's last letter is "a" or "q" (it carries one bit); these never are.
            forged = f"{local[:-4]}{''.join('bcdefghijk'[int(d)] for d in f'{n:04d}')}@{domain}"
            try:
                await client.mail("")
            except aiosmtplib.SMTPSenderRefused:
                refused += 1
                continue
            await client.rcpt(forged)
            await client.data(dsn(forged, READERS[n % len(READERS)]) + str(n).encode())
        await client.quit()
        for _ in range(1200):
            if not returned.spool.waiting():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        await returned.close()
    assert refused == 10_000 - 300
    assert returned.spool.waiting() == []
    assert {sent.status(reader) for reader in READERS} == {Status.CONFIRMED}
    with sent.sessions() as session:
        assert store.handled_counts(session)[Handling.REFUSED] == 300
    messages = [r.getMessage() for r in caplog.records]
    assert sum("messages in a minute" in m for m in messages) == 1
    assert all(reader not in m for m in messages for reader in READERS)
