"""Each outcome is written as it happens: when the server takes a message, every message before it on that
connection is already recorded, so a crash can repeat at most one message per connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.delivery.sender import Policy
from tests.newsletter.delivery.sends import Send, make_send, readers
from tests.newsletter.smtp_server import Received, SmtpServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def send(tmp_path: Path, engine: Engine, database_url: str) -> Send:
    return make_send(tmp_path, engine, database_url, readers(24))


def unrecorded_at_each_arrival(send: Send, server: SmtpServer) -> list[int]:
    """For each message the server takes: how many it took before that the ledger does not say are sent."""
    behind: list[int] = []

    def on_received(_: Received) -> None:
        behind.append(len(server.received) - 1 - send.counts().get("sent", 0))

    server.on_received = on_received
    return behind


async def test_one_connection_records_each_acceptance_before_the_next_message_leaves(
        send: Send, server: SmtpServer) -> None:
    behind = unrecorded_at_each_arrival(send, server)
    await send.run(server, Policy(workers=1, batch_size=10))
    assert len(behind) == 24
    assert set(behind) == {0}
    # With the next message's MAIL, RCPT and DATA pipelined behind each message's end (the server offers
    # PIPELINING), as a relay such as Postfix does.
    assert any(b"\r\n.\r\nMAIL FROM:<" in read for read in server.reads)


async def test_with_several_connections_at_most_one_acceptance_per_connection_is_unrecorded(
        send: Send, server: SmtpServer) -> None:
    behind = unrecorded_at_each_arrival(send, server)
    await send.run(server, Policy(workers=3, batch_size=10), connections=3)
    assert len(behind) == 24
    # The arriving message is not counted; each of the two other connections may have one on its way.
    assert max(behind) <= 2
