"""The outbox worker against a real SMTP server (aiosmtpd): sends, retries while it is down, gives up."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from starlette.types import Message, Receive, Scope, Send

from newsletter.config.settings import Config, SmtpSettings
from newsletter.delivery.transports.outbox_folder import OutboxTransport
from newsletter.delivery.transports.smtp import SmtpTransport
from subscribers.addresses import parse
from subscribers.confirmation import ConfirmationMail
from subscribers.side import Subscribers
from subscribers.store import Action, Consent
from subscribers.tables import MailState, OutboxRow, Status
from subscribers.tokens import Purpose
from subscribers.traffic import Traffic
from subscribers.verp import ReturnKind
from subscribers.worker import BUSY_BATCH, OutboxWorker
from tests.conftest import Clock
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio

WEB = Consent("web-signup", "signup-test")
LINK = re.compile(r"https?://[^/\s]+/confirm\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


def worker_for(side: Subscribers, config: Config, server: SmtpServer, *, poll_seconds: float = 5.0,
               retry_after: timedelta = timedelta(seconds=30)) -> OutboxWorker:
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, timeout=5.0))
    return OutboxWorker(side, transport, ConfirmationMail(config), poll_seconds=poll_seconds,
                        retry_after=retry_after)


def confirm_token(data: bytes, link: re.Pattern[str] = LINK) -> str:
    """The token of the link in a confirmation email's text part."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    found = link.search(body.get_content())
    assert found is not None
    return found.group(1)


def mail_rows(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [(r.state, r.attempts) for r in conn.execute(select(OutboxRow.state, OutboxRow.attempts))]


async def test_a_sign_up_gets_one_email_whose_link_confirms_it(side: Subscribers, config: Config,
                                                               smtp_server: SmtpServer, clock: Clock) -> None:
    side.store.sign_up(parse("Alice@Example.org"), WEB)
    worker = worker_for(side, config, smtp_server)
    assert await worker.run_once() == 1
    await worker.transport.close()
    [received] = smtp_server.received
    assert received.recipients == ("Alice@example.org",)
    assert received.sender == "letters@news.example.org"
    claims = side.signer.verify(confirm_token(received.data), Purpose.CONFIRM, clock.now + timedelta(days=6))
    assert side.store.confirm(claims.subscriber_id, claims.nonce) is Action.DONE
    assert side.outbox.counts()[MailState.SENT] == 1


async def test_a_mail_is_retried_while_the_server_refuses_and_sent_once_it_is_back(
        side: Subscribers, config: Config, engine: Engine, smtp_server: SmtpServer, clock: Clock) -> None:
    side.store.sign_up(parse("alice@example.org"), WEB)
    worker = worker_for(side, config, smtp_server)
    smtp_server.faults.greeting = "421 4.3.2 Service not available, closing channel"
    assert await worker.run_once() == 1
    assert mail_rows(engine) == [("pending", 1)]
    assert await worker.run_once() == 0  # not due again for 30 seconds
    clock.advance(seconds=30)
    assert await worker.run_once() == 1
    assert mail_rows(engine) == [("pending", 2)]
    smtp_server.faults.greeting = ""
    clock.advance(seconds=60)
    assert await worker.run_once() == 1
    await worker.transport.close()
    assert mail_rows(engine) == [("sent", 3)]
    assert len(smtp_server.received) == 1


async def test_a_running_worker_sends_within_seconds_and_rides_out_an_outage(
        config: Config, engine: Engine, smtp_server: SmtpServer) -> None:
    side = Subscribers(config, engine)  # real time
    worker = worker_for(side, config, smtp_server, poll_seconds=0.05, retry_after=timedelta(seconds=0.2))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        side.store.sign_up(parse("alice@example.org"), WEB)
        worker.wake()
        assert await _eventually(lambda: len(smtp_server.received) == 1)
        smtp_server.faults.greeting = "421 4.3.2 Try again later"
        await worker.transport.close()  # the next mail needs a new connection, which the server refuses
        side.store.sign_up(parse("bob@example.org"), WEB)
        worker.wake()
        assert await _eventually(lambda: side.outbox.counts()[MailState.PENDING] == 1
                                 and mail_rows(engine)[1][1] >= 2)
        smtp_server.faults.greeting = ""
        assert await _eventually(lambda: len(smtp_server.received) == 2)
    finally:
        stop.set()
        await running
        await worker.transport.close()
    assert [r.recipients for r in smtp_server.received] == [("alice@example.org",), ("bob@example.org",)]


async def _eventually(condition: object, timeout: float = 10.0) -> bool:
    assert callable(condition)
    for _ in range(int(timeout / 0.02)):
        if await asyncio.to_thread(condition):
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_permanent_refusal_fails_the_mail_and_stores_no_address(
        side: Subscribers, config: Config, engine: Engine, smtp_server: SmtpServer,
        caplog: pytest.LogCaptureFixture) -> None:
    smtp_server.faults.rcpt["alice@example.org"] = "550 5.1.1 <alice@example.org>: no such user"
    side.store.sign_up(parse("alice@example.org"), WEB)
    worker = worker_for(side, config, smtp_server)
    with caplog.at_level(logging.INFO):
        assert await worker.run_once() == 1
    await worker.transport.close()
    assert mail_rows(engine) == [("failed", 1)]
    with engine.connect() as conn:
        error = conn.execute(select(OutboxRow.last_error)).scalar_one()
    assert error is not None
    assert "550" in error
    assert "alice" not in error
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("subscribers", "newsletter"))]
    assert any("refused" in line for line in ours)
    assert not any("alice" in line for line in ours)  # the test server's own log (mail.log) may say it


async def test_mail_still_failing_after_give_up_after_is_failed(side: Subscribers, config: Config,
                                                                engine: Engine, smtp_server: SmtpServer,
                                                                clock: Clock) -> None:
    side.store.sign_up(parse("alice@example.org"), WEB)
    smtp_server.faults.greeting = "421 4.3.2 Down for maintenance"
    worker = worker_for(side, config, smtp_server)
    await worker.run_once()
    clock.advance(hours=config.delivery.give_up_after, seconds=1)
    await worker.run_once()
    with engine.connect() as conn:
        row = conn.execute(select(OutboxRow.state, OutboxRow.last_error)).one()
    assert row.state == "failed"
    assert row.last_error.startswith("gave up: ")


async def test_a_mail_for_someone_no_longer_pending_is_cancelled_not_sent(
        side: Subscribers, config: Config, engine: Engine, smtp_server: SmtpServer, clock: Clock) -> None:
    side.store.sign_up(parse("alice@example.org"), WEB)
    [held] = side.outbox.claim(1, timedelta(minutes=5))  # a worker that then died
    _, nonce = side.store.pending_addresses([held.subscriber_id])[held.subscriber_id]
    side.store.confirm(held.subscriber_id, nonce)
    clock.advance(minutes=6)
    worker = worker_for(side, config, smtp_server)
    assert await worker.run_once() == 1
    assert mail_rows(engine) == [("cancelled", 2)]
    assert smtp_server.received == []


async def test_the_worker_purges_sign_ups_left_unconfirmed(side: Subscribers, config: Config,
                                                           smtp_server: SmtpServer, clock: Clock) -> None:
    side.store.sign_up(parse("alice@example.org"), WEB)
    clock.advance(days=config.subscribers.pending_days, seconds=1)
    worker = worker_for(side, config, smtp_server, poll_seconds=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    assert await _eventually(lambda: side.store.counts()[Status.PENDING] == 0)
    stop.set()
    await running
    await worker.transport.close()
    assert smtp_server.received == []


async def test_with_a_bounce_domain_a_confirmation_email_returns_to_an_address_naming_its_sign_up(
        config: Config, engine: Engine, smtp_server: SmtpServer, clock: Clock) -> None:
    config = dataclasses.replace(config, bounces=dataclasses.replace(config.bounces, domain="b.news.example.org"))
    side = Subscribers(config, engine, now=clock)
    side.store.sign_up(parse("alice@example.org"), WEB)
    worker = worker_for(side, config, smtp_server)
    assert await worker.run_once() == 1
    await worker.transport.close()
    [received] = smtp_server.received
    token = side.returns.read(received.sender)
    assert token.subscriber_id == side.store.identify(parse("alice@example.org"))
    assert (token.kind, token.issue_id) == (ReturnKind.CONFIRMATION, 0)
    assert "alice" not in received.sender


class Flood:
    """A site with one request in flight until `end()`: to the worker, requests that keep coming."""

    def __init__(self) -> None:
        self.traffic = Traffic(lull=0.01)
        self._over = asyncio.Event()

        async def held(scope: Scope, receive: Receive, send: Send) -> None:
            await self._over.wait()

        async def nothing() -> Message:
            return {"type": "http.request"}

        async def ignore(message: Message) -> None:
            return None

        self._request = asyncio.ensure_future(self.traffic.count(held)({"type": "http"}, nothing, ignore))

    async def end(self) -> None:
        self._over.set()
        await self._request


async def test_while_requests_keep_coming_the_mail_waits_and_goes_out_once_the_site_is_quiet(
        side: Subscribers, config: Config, tmp_path: Path) -> None:
    side.store.sign_up(parse("alice@example.org"), WEB)
    flood = Flood()
    await asyncio.sleep(0)
    outbox = OutboxTransport(tmp_path / "outbox")
    worker = OutboxWorker(side, outbox, ConfirmationMail(config), traffic=flood.traffic, patience=30)
    running = asyncio.create_task(worker.run_once())
    await asyncio.sleep(0.2)
    assert not running.done()
    assert not (tmp_path / "outbox" / "new").exists()
    await flood.end()
    assert await running == 1
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1


async def test_a_flood_that_never_ends_still_gets_its_mail_a_small_batch_at_a_time(
        side: Subscribers, config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    addresses = [f"reader{n}@example.org" for n in range(BUSY_BATCH * 2 + 5)]
    side.store.queue_sign_ups([(parse(address), WEB) for address in addresses])
    flood = Flood()
    await asyncio.sleep(0)
    worker = OutboxWorker(side, OutboxTransport(tmp_path / "outbox"), ConfirmationMail(config),
                          traffic=flood.traffic, patience=0.01)
    with caplog.at_level(logging.INFO, logger="subscribers.worker"):
        assert await worker.run_once() == len(addresses)
    await flood.end()
    batches = [int(found.group(1)) for record in caplog.records
               if (found := re.match(r"confirmation emails: (\d+) sent", record.getMessage()))]
    assert sum(batches) == len(addresses)
    assert max(batches) <= BUSY_BATCH
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == len(addresses)
