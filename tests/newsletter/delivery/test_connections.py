"""A server that refuses or is down is not hammered, and the summary counts rows, not attempts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.delivery.sender import Policy
from newsletter.delivery.tables import DeliveryState
from newsletter.errors import SessionFailure
from subscribers.tables import Status
from tests.newsletter.delivery.sends import Send, make_send, readers, smtp_transport
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio


class Once(dict[str, str]):
    """A fault that happens on the first attempt only."""

    def __getitem__(self, key: str) -> str:
        return self.pop(key)


@pytest.fixture
def send(tmp_path: Path, engine: Engine, database_url: str) -> Send:
    return make_send(tmp_path, engine, database_url, readers(40))


async def test_a_server_answering_421_gets_one_connection_attempt_per_claimed_batch_not_per_message(
        send: Send, server: SmtpServer) -> None:
    server.faults.greeting = "421 4.3.2 Service not available, closing transmission channel"
    tally = await send.run(server, Policy(workers=2, batch_size=10, retry_seconds=60, linger_seconds=0),
                           connections=2)
    assert server.connections <= 4
    assert send.counts() == {"deferred": 40}
    assert send.statuses() == {Status.CONFIRMED}
    assert tally.states[DeliveryState.DEFERRED] == 40


async def test_a_connection_the_server_keeps_refusing_waits_longer_before_each_new_attempt(
        server: SmtpServer) -> None:
    server.faults.greeting = "421 4.3.2 Service not available, closing transmission channel"
    transport = smtp_transport(server, connections=1)
    from newsletter.delivery.transports.base import Outgoing
    message = Outgoing("letters@news.example.org", "reader@example.com", b"Subject: x\r\n\r\nx\r\n", "<x@y>")
    attempts = 0
    started = time.monotonic()
    try:
        # Keep sending for one second of wall time; a slower machine only makes fewer attempts.
        while time.monotonic() - started < 1.0:
            with pytest.raises(SessionFailure):
                await transport.send(message)
            attempts += 1
    finally:
        await transport.close()
    assert attempts == server.connections
    assert server.connections <= 3


async def test_the_summary_counts_each_row_once_however_often_it_was_tried(
        send: Send, server: SmtpServer) -> None:
    server.faults.rcpt = Once({send.addresses[1]: "451 4.7.1 Greylisted, try again",
                               send.addresses[7]: "451 4.3.0 Busy"})
    tally = await send.run(server, Policy(workers=2, batch_size=10, retry_seconds=0.05, linger_seconds=5))
    assert send.counts() == {"sent": 40}
    assert dict(tally.states) == {DeliveryState.SENT: 40}
    assert not tally.reasons
