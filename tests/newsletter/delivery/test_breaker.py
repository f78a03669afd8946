"""A relay that refuses everyone must not destroy the list: a refusal that names the relay or the sender's
policy stops the send at once, and a run of permanent refusals trips a breaker; either way nobody is bounced
and the rows are left for a later run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.delivery.breaker import RefusalBreaker
from newsletter.delivery.ledger import Claim, Outcome
from newsletter.delivery.sender import Policy
from newsletter.delivery.tables import DeliveryState
from newsletter.errors import NewsletterError
from subscribers.tables import Status
from tests.newsletter.delivery.sends import Send, make_send, readers
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio

FAST = Policy(workers=2, batch_size=5, retry_seconds=0.05, linger_seconds=5)


@pytest.fixture
def send(tmp_path: Path, engine: Engine, database_url: str) -> Send:
    return make_send(tmp_path, engine, database_url, readers(30))


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("554 5.7.1 <reader0@example.com>: Relay access denied", "relay"),
        ("530 5.7.0 Authentication required", "authentication"),
        ("550 5.7.1 Client host rejected: sender policy", "policy"),
    ],
    ids=["554-relay-denied", "530-auth-required", "550-policy"],
)
async def test_a_relay_that_refuses_to_relay_for_us_stops_the_send_and_suppresses_nobody(
        send: Send, server: SmtpServer, reply: str, named: str) -> None:
    server.faults.rcpt = dict.fromkeys(send.addresses, reply)
    with pytest.raises(NewsletterError) as stopped:
        await send.run(server, FAST)
    message = str(stopped.value)
    assert named in message.lower()
    assert "nobody was marked bounced" in message
    assert "reader0@example.com" not in message
    assert send.statuses() == {Status.CONFIRMED}
    assert send.counts() == {"pending": 30}


async def test_a_relay_that_rejects_every_message_after_data_trips_the_breaker_and_bounces_nobody(
        send: Send, server: SmtpServer) -> None:
    server.faults.data = dict.fromkeys(send.addresses, "554 5.6.0 Message content rejected")
    with pytest.raises(NewsletterError) as stopped:
        await send.run(server, FAST)
    assert "20 messages in a row were refused" in str(stopped.value)
    assert send.statuses() == {Status.CONFIRMED}
    # Those rows are left for a later run: neither failed nor bounced.
    assert send.counts() == {"pending": 30}
    assert len(server.received) == 0


async def test_permanent_refusals_between_acceptances_are_real_bounces(send: Send, server: SmtpServer) -> None:
    refused = send.addresses[::3]
    server.faults.rcpt = dict.fromkeys(refused, "550 5.1.1 No such user here")
    await send.run(server, FAST)
    assert send.counts() == {"sent": 20, "failed": 10}
    assert {address for address, state in send.states().items() if state == "failed"} == set(refused)
    assert all(send.status(address) is Status.BOUNCED for address in refused)


def test_only_a_message_begun_after_a_refusal_vouches_for_it() -> None:
    breaker = RefusalBreaker(limit=20)
    claim = Claim(1, 1, 1, datetime(2026, 11, 23, tzinfo=UTC))
    refused = Outcome(1, DeliveryState.FAILED, 550, "no such user")
    breaker.refused(claim, refused, at=5)
    assert breaker.accepted(began=4) == []  # under way when the refusal came back: proves nothing
    assert [r.at for r in breaker.held] == [5]
    assert [r.at for r in breaker.accepted(began=6)] == [5]
    assert breaker.held == []
