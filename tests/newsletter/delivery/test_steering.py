"""A running send obeys its issue's state: a pause stops every worker and leaves the rest pending, a cancel
skips the rest, and a relay that starts refusing everyone makes the send pause itself instead of bouncing
the list. Against a real SMTP server; the state is moved as a person (or another machine) would move it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.db.schema import utcnow
from newsletter.delivery.sender import Policy
from newsletter.delivery.steering import IssueSteering
from newsletter.errors import SendCancelled, SendPaused
from newsletter.issues import life
from newsletter.issues.tables import IssueState
from subscribers.tables import Status
from tests.newsletter.delivery.sends import W47, Send, make_send, readers, smtp_transport
from tests.newsletter.smtp_server import Received, SmtpServer

pytestmark = pytest.mark.anyio
STEADY = Policy(workers=2, batch_size=5, lease_seconds=30, retry_seconds=0.05, linger_seconds=0, check_seconds=0.05)


def move(send: Send, to: IssueState, by: str = "editor") -> None:
    with send.sessions.begin() as session:
        life.move(session, W47, to, by=by, reason="test", now=utcnow())


def state(send: Send) -> life.IssueStatus:
    with send.sessions() as session:
        found = life.current(session, W47)
    assert found is not None
    return found


async def steered(send: Send, server: SmtpServer, policy: Policy = STEADY,
                  tell: Callable[[str, str], Awaitable[None]] | None = None) -> None:
    transport = smtp_transport(server)
    try:
        await send.sender(transport, policy, steering=IssueSteering(send.sessions, W47, tell=tell)).run(send.issue_id)
    finally:
        await transport.close()


def after(count: int, then: Callable[[], None]) -> Callable[[Received], None]:
    """A server hook that calls `then()` once, when the server has accepted `count` messages."""
    seen = [0]

    def hook(_: Received) -> None:
        seen[0] += 1
        if seen[0] == count:
            then()
    return hook


async def test_a_pause_stops_every_worker_and_resume_sends_the_rest_once(tmp_path: Path, engine: Engine,
                                                                          database_url: str,
                                                                          server: SmtpServer) -> None:
    send = make_send(tmp_path, engine, database_url, readers(60))
    move(send, IssueState.SENDING)
    server.on_received = after(10, lambda: move(send, IssueState.PAUSED))
    with pytest.raises(SendPaused, match="2026-W47 was paused by editor: test; `newsletter issue resume`"):
        await steered(send, server)
    counts = send.counts()
    assert set(counts) == {"sent", "pending"}, counts
    assert counts["sent"] == len(server.received) < 60
    move(send, IssueState.SENDING)
    server.on_received = None
    await steered(send, server)
    assert send.counts() == {"sent": 60}
    assert sorted(server.recipients().items()) == sorted((address, 1) for address in send.addresses)


async def test_a_cancel_stops_the_send_and_skips_every_row_not_sent(tmp_path: Path, engine: Engine,
                                                                     database_url: str, server: SmtpServer) -> None:
    send = make_send(tmp_path, engine, database_url, readers(60))
    move(send, IssueState.SENDING)
    server.on_received = after(10, lambda: move(send, IssueState.CANCELLED))
    with pytest.raises(SendCancelled, match="2026-W47 was cancelled by editor: test"):
        await steered(send, server)
    counts = send.counts()
    assert set(counts) == {"sent", "skipped"}, counts
    assert counts["sent"] == len(server.received)
    assert max(server.recipients().values()) == 1


async def test_a_relay_that_starts_refusing_everyone_pauses_the_send_and_bounces_nobody(
        tmp_path: Path, engine: Engine, database_url: str, server: SmtpServer) -> None:
    send = make_send(tmp_path, engine, database_url, readers(650))
    move(send, IssueState.SENDING)

    def refuse_everyone() -> None:
        server.faults.rcpt.update(dict.fromkeys(send.addresses, "550 5.1.1 Mailbox unavailable"))

    server.on_received = after(500, refuse_everyone)
    told: list[tuple[str, str]] = []

    async def tell(subject: str, body: str) -> None:
        told.append((subject, body))

    # The defaults: a window of 100 outcomes, a pause above 10% refused; the breaker's 20 in a row comes later.
    policy = Policy(workers=4, batch_size=25, lease_seconds=30, retry_seconds=0.05, linger_seconds=0,
                    check_seconds=0.05)
    with pytest.raises(SendPaused, match=r"of the last 100 messages were refused for good .*bounced nobody"):
        await steered(send, server, policy, tell=tell)
    counts = send.counts()
    # 500, and the few messages other connections had past RCPT when the server turned.
    assert counts["sent"] == len(server.received) >= 500
    assert set(counts) == {"sent", "pending"}, counts
    assert send.statuses() == {Status.CONFIRMED}
    paused = state(send)
    assert (paused.state, paused.changed_by) == (IssueState.PAUSED, "sender")
    assert [subject for subject, _ in told] == ["Paused: 2026-W47"]
    assert "newsletter issue resume --week 2026-W47" in told[0][1]
