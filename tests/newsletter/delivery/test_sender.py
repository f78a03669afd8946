"""The send engine against a real SMTP server: each fault comes from the server, never from a mock."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config, SmtpSettings, load
from newsletter.content import store as excerpt_store
from newsletter.db.engine import sessions as make_sessions
from newsletter.db.schema import as_utc, utcnow
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.ledger import Outcome
from newsletter.delivery.sender import Policy, Sender
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.delivery.tally import Tally
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.issues.compose import MessageTemplate, compose
from newsletter.issues.render import render_issue
from newsletter.mail.dkim import DkimSigner
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import Status, SubscriberRow
from tests.conftest import Clock, write_config
from tests.newsletter.conftest import sample_excerpts
from tests.newsletter.mail.test_dkim import verifies
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio

W47 = IsoWeek(2026, 47)
State = DeliveryState
READERS = [f"reader{n}@example.com" for n in range(10)]
FAST = Policy(workers=2, batch_size=3, lease_seconds=30, retry_seconds=0.05, linger_seconds=5)


class Once(dict[str, str]):
    """A fault that happens on the first attempt only: the reply is handed out once, then forgotten."""

    def __getitem__(self, key: str) -> str:
        return self.pop(key)


@dataclass
class Send:
    """One issue ready to send to READERS, and what is needed to run and inspect the send."""

    config: Config
    sessions: sessionmaker[Session]
    side: Subscribers
    recipients: SubscriberRecipients
    template: MessageTemplate
    issue_id: int
    ids: dict[str, int] = field(default_factory=dict)

    async def run(self, server: SmtpServer, policy: Policy = FAST, clock: Callable[[], datetime] = utcnow,
                  **smtp: Any) -> None:
        settings = SmtpSettings(host=server.host, port=server.port, timeout=smtp.pop("timeout", 5.0), **smtp)
        transport = SmtpTransport(settings)
        try:
            await Sender(self.sessions, transport, self.template, self.recipients, policy,
                         envelope_from="letters@news.example.org", clock=clock).run(self.issue_id)
        finally:
            await transport.close()

    def states(self) -> dict[str, str]:
        """Each reader's ledger state."""
        by_id = {v: k for k, v in self.ids.items()}
        with self.sessions() as session:
            rows = session.execute(select(DeliveryRow.subscriber_id, DeliveryRow.state)
                                   .where(DeliveryRow.issue_id == self.issue_id)).all()
        return {by_id[subscriber]: state.value for subscriber, state in rows}

    def row(self, reader: str) -> tuple[object, ...]:
        """A reader's ledger row as (state, code, reason, finished_at, next_attempt_at), times in UTC."""
        with self.sessions() as session:
            found = session.scalars(select(DeliveryRow).where(DeliveryRow.issue_id == self.issue_id,
                                                              DeliveryRow.subscriber_id == self.ids[reader])).one()
            return (found.state.value, found.code, found.reason, found.finished_at and as_utc(found.finished_at),
                    found.next_attempt_at and as_utc(found.next_attempt_at))


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the sender logged."""
    return [record.getMessage() for record in caplog.records if record.name == "newsletter.delivery.sender"]


@pytest.fixture
def send(tmp_path: Path, engine: Engine, database_url: str) -> Send:
    config = load(write_config(tmp_path, database_url), environ={})
    sessions = make_sessions(engine)
    side = Subscribers(config, engine)
    for address in READERS:
        side.store.add_confirmed(parse(address), Consent("import", "test"))
    excerpts = sample_excerpts()
    with sessions.begin() as session:
        excerpt_store.add(session, excerpts)
    template = compose(config, render_issue(config, W47, excerpts))
    recipients = SubscriberRecipients(config, engine)
    with sessions.begin() as session:
        issue, _ = sending.open_issue(session, W47, template.subject, excerpts, recipients.confirmed_ids(),
                                     datetime.now(UTC))
    found = recipients.lookup(list(range(1, 100)))
    return Send(config, sessions, side, recipients, template, issue.id,
                {r.address: r.subscriber_id for r in found.values()})


async def test_every_confirmed_subscriber_gets_one_message_addressed_to_them_alone(
        send: Send, server: SmtpServer) -> None:
    await send.run(server)
    assert server.recipients() == dict.fromkeys(READERS, 1)
    for received in server.received:
        message = message_from_bytes(received.data, policy=policy.default)
        [to] = received.recipients
        assert message["To"] == to
        assert message["Message-ID"] == send.template.message_id(send.ids[to])
        assert message["Cc"] is None
        assert message["Bcc"] is None
    assert set(send.states().values()) == {"sent"}


async def test_running_the_send_again_sends_nobody_a_second_copy(send: Send, server: SmtpServer) -> None:
    await send.run(server)
    await send.run(server)
    assert server.recipients() == dict.fromkeys(READERS, 1)


async def test_451_on_some_recipients_defers_them_until_a_retry_delivers(send: Send, server: SmtpServer) -> None:
    server.faults.rcpt = Once({READERS[1]: "451 4.7.1 Greylisted, try again", READERS[7]: "451 4.3.0 Busy"})
    await send.run(server)
    assert server.recipients() == dict.fromkeys(READERS, 1)
    with send.sessions() as session:
        attempts = dict(session.execute(select(DeliveryRow.subscriber_id, DeliveryRow.attempts)).all())
    assert attempts[send.ids[READERS[1]]] == 2
    assert attempts[send.ids[READERS[0]]] == 1


async def test_550_fails_that_recipient_suppresses_them_and_the_rest_still_go(
        send: Send, server: SmtpServer) -> None:
    server.faults.rcpt = {READERS[3]: f"550 5.1.1 <{READERS[3]}>: mailbox unavailable"}
    await send.run(server)
    assert server.recipients() == {r: 1 for r in READERS if r != READERS[3]}
    assert send.states()[READERS[3]] == "failed"
    assert send.side.store.lookup(parse(READERS[3])) is Status.BOUNCED
    with send.sessions() as session:
        [(reason, count)] = ledger.failure_reasons(session, send.issue_id)
    assert count == 1
    assert READERS[3] not in reason
    assert "550" in reason or "mailbox unavailable" in reason


async def test_a_500_refusal_suppresses_the_recipient_like_any_5xx(send: Send, server: SmtpServer) -> None:
    server.faults.rcpt = {READERS[3]: "500 5.5.2 Syntax error"}
    await send.run(server)
    assert send.states()[READERS[3]] == "failed"
    assert send.side.store.lookup(parse(READERS[3])) is Status.BOUNCED


async def test_421_at_connect_defers_everyone_and_bounces_no_one(send: Send, server: SmtpServer) -> None:
    server.faults.greeting = "421 4.3.2 Service not available"
    await send.run(server, Policy(workers=1, batch_size=5, retry_seconds=60, linger_seconds=0))
    assert set(send.states().values()) == {"deferred"}
    assert all(send.side.store.lookup(parse(r)) is Status.CONFIRMED for r in READERS)
    server.faults.greeting = ""
    with send.sessions.begin() as session:
        # The retry time has come.
        session.execute(update(DeliveryRow).values(next_attempt_at=datetime.now(UTC)))
    await send.run(server)
    assert server.recipients() == dict.fromkeys(READERS, 1)


async def test_a_connection_dropped_mid_data_defers_only_that_message(send: Send, server: SmtpServer) -> None:
    server.faults.drop_in_data = {READERS[4]}
    await send.run(server, Policy(workers=1, batch_size=10, retry_seconds=60, linger_seconds=0))
    states = send.states()
    assert states.pop(READERS[4]) == "deferred"
    assert set(states.values()) == {"sent"}


async def test_a_stalled_server_times_out_and_the_message_is_deferred(send: Send, server: SmtpServer) -> None:
    server.faults.stall_rcpt = {READERS[2]}
    await send.run(server, Policy(workers=1, batch_size=10, retry_seconds=60, linger_seconds=0), timeout=0.5)
    states = send.states()
    assert states.pop(READERS[2]) == "deferred"
    assert set(states.values()) == {"sent"}


async def test_452_too_many_recipients_defers_and_a_fresh_connection_delivers(
        send: Send, server: SmtpServer) -> None:
    server.faults.recipients_per_connection = 4
    await send.run(server, Policy(workers=1, batch_size=10, retry_seconds=0.05, linger_seconds=5),
                   connections=1)
    assert server.recipients() == dict.fromkeys(READERS, 1)
    assert server.connections >= 3


async def test_an_unsubscribe_that_arrives_mid_send_stops_the_pending_message(
        send: Send, server: SmtpServer) -> None:
    leaving = READERS[-1]

    def unsubscribe_once(_: object) -> None:
        server.on_received = None
        with send.sessions() as session:
            nonce = session.scalars(select(SubscriberRow.nonce).where(SubscriberRow.id == send.ids[leaving])).one()
        send.side.store.unsubscribe(send.ids[leaving], nonce)

    server.on_received = unsubscribe_once
    await send.run(server, Policy(workers=1, batch_size=3))
    assert leaving not in server.recipients()
    assert send.row(leaving)[:3] == ("skipped", None, "no longer subscribed when its turn came")


async def test_a_recipient_deferred_past_give_up_after_is_failed_but_not_suppressed(
        send: Send, server: SmtpServer) -> None:
    server.faults.rcpt = {READERS[0]: "451 4.3.0 Still busy"}
    await send.run(server, Policy(workers=1, batch_size=10, retry_seconds=0.05, linger_seconds=5,
                                  give_up_after=timedelta(seconds=0.3)))
    assert send.states()[READERS[0]] == "failed"
    with send.sessions() as session:
        [(reason, _)] = ledger.failure_reasons(session, send.issue_id)
    assert reason.startswith("gave up after")
    assert send.side.store.lookup(parse(READERS[0])) is Status.CONFIRMED


async def test_a_deferral_is_recorded_with_its_code_and_retry_time_and_gives_up_at_give_up_after(
        send: Send, server: SmtpServer, clock: Clock) -> None:
    server.faults.rcpt = {READERS[0]: "451 4.3.0 Still busy"}
    policy = Policy(workers=1, batch_size=10, retry_seconds=60, linger_seconds=0, give_up_after=timedelta(hours=72))
    first = clock.now
    await send.run(server, policy, clock)
    busy = "the server deferred the recipient: 4.3.0 Still busy"
    assert send.row(READERS[0]) == ("deferred", 451, busy, None, first + timedelta(seconds=60))
    assert send.row(READERS[1]) == ("sent", None, None, first, None)
    # Exactly give_up_after since the first attempt: this one was the last.
    clock.advance(hours=72)
    await send.run(server, policy, clock)
    assert send.row(READERS[0])[:4] == ("failed", 451, f"gave up after 72 hours of temporary failures: {busy}",
                                        clock.now)


async def test_each_refused_or_deferred_delivery_is_logged_with_the_address_redacted(
        send: Send, server: SmtpServer, caplog: pytest.LogCaptureFixture) -> None:
    server.faults.rcpt = {READERS[1]: "451 4.7.1 Greylisted", READERS[3]: "550 5.1.1 No such mailbox"}
    with caplog.at_level(logging.INFO, logger="newsletter.delivery.sender"):
        await send.run(server, Policy(workers=1, batch_size=10, retry_seconds=60, linger_seconds=0))
    assert logged(caplog) == [
        "delivery deferred for r***@example.com: the server deferred the recipient: 4.7.1 Greylisted",
        "delivery refused for r***@example.com: the server refused the recipient: 5.1.1 No such mailbox"]


async def test_a_failure_before_any_recipient_is_named_is_logged_and_recorded_with_its_code(
        send: Send, server: SmtpServer, caplog: pytest.LogCaptureFixture) -> None:
    server.faults.greeting = "421 4.3.2 Service not available"
    with caplog.at_level(logging.INFO, logger="newsletter.delivery.sender"):
        await send.run(server, Policy(workers=1, batch_size=10, retry_seconds=60, linger_seconds=0))
    refused = f"{server.host}:{server.port} turned the connection away: 4.3.2 Service not available"
    assert set(logged(caplog)) == {f"delivery deferred for a recipient: {refused}"}
    assert send.row(READERS[0])[:3] == ("deferred", 421, refused)


@pytest.mark.parametrize(("attempts", "seconds"),
                         [(0, 60), (1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (40, 3600)])
def test_retries_back_off_doubling_from_retry_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert Policy(retry_seconds=60).backoff(attempts) == timedelta(seconds=seconds)


def test_the_tally_counts_every_outcome_and_the_reasons_of_failures_and_deferrals_only() -> None:
    tally = Tally()
    for outcome in [Outcome(1, State.SENT), Outcome(2, State.SKIPPED, reason="no longer subscribed"),
                    Outcome(3, State.FAILED, 550, "refused"), Outcome(4, State.FAILED, 550, "refused"),
                    Outcome(5, State.DEFERRED, 451, "busy"), Outcome(6, State.FAILED)]:
        tally.add(outcome)
    assert tally.states == Counter({State.FAILED: 3, State.SENT: 1, State.SKIPPED: 1, State.DEFERRED: 1})
    assert tally.reasons == Counter({"refused": 2, "busy": 1})


async def test_a_stop_request_releases_the_claimed_rows_untried(send: Send, server: SmtpServer) -> None:
    stop = asyncio.Event()
    server.on_received = lambda _: stop.set()
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, timeout=5.0))
    try:
        await Sender(send.sessions, transport, send.template, send.recipients, Policy(workers=1, batch_size=5),
                     envelope_from="letters@news.example.org").run(send.issue_id, stop)
    finally:
        await transport.close()
    states = list(send.states().values())
    assert states.count("sent") == 1
    assert states.count("pending") == len(READERS) - 1
    with send.sessions() as session:
        assert ledger.counts(session, send.issue_id)[DeliveryState.SENDING] == 0


async def test_with_dkim_configured_every_message_leaves_signed(send: Send, server: SmtpServer,
                                                                key_pair: tuple[bytes, str]) -> None:
    signer = DkimSigner("news.example.org", "weekly", key_pair[0])
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, timeout=5.0))
    try:
        await Sender(send.sessions, transport, send.template, send.recipients, FAST,
                     envelope_from="letters@news.example.org", sign=signer.sign).run(send.issue_id)
    finally:
        await transport.close()
    assert len(server.received) == len(READERS)
    assert all(verifies(received.data, key_pair[1]) for received in server.received)
