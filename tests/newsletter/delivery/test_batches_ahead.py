"""A worker claims its next batch while it sends the current one: what that must not change."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, Select

from newsletter.delivery.recipients import Recipients
from newsletter.delivery.sender import Policy, Sender
from newsletter.mail.recipient import Recipient
from tests.newsletter.delivery.sends import FROM, Send, make_send, readers, smtp_transport
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def send(tmp_path: Path, engine: Engine, database_url: str) -> Send:
    return make_send(tmp_path, engine, database_url, readers(12))


class FailingAtFirst:
    """The subscriber side, whose first `failures` lookups fail (as one would while its database blinks)."""

    def __init__(self, send: Send, failures: int) -> None:
        self._send = send
        self.failures = failures
        self.lookups = 0

    def lookup(self, subscriber_ids: Sequence[int]) -> dict[int, Recipient]:
        self.lookups += 1
        if self.lookups <= self.failures:
            raise RuntimeError("the subscriber database failed")
        return self._send.recipients.lookup(subscriber_ids)

    def mark_bounced(self, subscriber_ids: Sequence[int]) -> None:
        self._send.recipients.mark_bounced(subscriber_ids)

    def confirmed_ids(self) -> Select[int]:
        return self._send.recipients.confirmed_ids()

    def for_issue(self, issue_id: int) -> Recipients:
        return self


async def test_recipients_that_could_not_be_looked_up_ahead_are_looked_up_when_their_batch_begins(
        send: Send, server: SmtpServer) -> None:
    recipients = FailingAtFirst(send, failures=1)
    transport = smtp_transport(server)
    try:
        await Sender(send.sessions, transport, send.template, recipients, Policy(workers=1, batch_size=4),
                     envelope_from=FROM).run(send.issue_id)
    finally:
        await transport.close()
    assert send.counts() == {"sent": 12}
    assert sorted(server.recipients()) == sorted(send.addresses)
    assert recipients.lookups > 3  # the failed one was asked again


async def test_a_send_stopped_hands_back_the_batch_claimed_ahead(
        send: Send, server: SmtpServer) -> None:
    transport = smtp_transport(server)
    stop = asyncio.Event()

    def stop_at_the_end_of_the_first_batch(_: object) -> None:
        if len(server.received) == 4:  # the next batch was claimed as the last message began
            stop.set()  # as SIGTERM does

    server.on_received = stop_at_the_end_of_the_first_batch
    try:
        await send.sender(transport, Policy(workers=1, batch_size=4)).run(send.issue_id, stop)
    finally:
        await transport.close()
    counts = send.counts()
    assert "sending" not in counts  # nothing stays claimed: the rest of both batches was handed back
    assert counts == {"sent": len(server.received), "pending": 12 - len(server.received)}
