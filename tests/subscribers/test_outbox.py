"""The outbox: claims are exclusive and leased, retries wait, finished mail is forgotten, errors are scrubbed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from subscribers.addresses import parse
from subscribers.outbox import MailOutcome, scrub
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import MailState, OutboxRow
from tests.conftest import Clock

WEB = Consent("web-signup", "signup-test")
LEASE = timedelta(minutes=5)


def queue(side: Subscribers, *names: str) -> None:
    for name in names:
        side.store.sign_up(parse(f"{name}@example.org"), WEB)


def test_a_claimed_mail_is_not_claimed_again_until_its_lease_runs_out(side: Subscribers, clock: Clock) -> None:
    queue(side, "alice", "bob")
    first = side.outbox.claim(10, LEASE)
    assert [(m.subscriber_id, m.kind, m.attempts) for m in first] == [(1, "confirm", 1), (2, "confirm", 1)]
    assert side.outbox.claim(10, LEASE) == []
    clock.advance(minutes=5, seconds=1)
    assert [(m.id, m.attempts) for m in side.outbox.claim(10, LEASE)] == [(first[0].id, 2), (first[1].id, 2)]


def test_claims_come_in_id_order_and_in_batches(side: Subscribers) -> None:
    queue(side, "a1", "a2", "a3", "a4", "a5")
    assert [m.subscriber_id for m in side.outbox.claim(2, LEASE)] == [1, 2]
    assert [m.subscriber_id for m in side.outbox.claim(2, LEASE)] == [3, 4]
    assert [m.subscriber_id for m in side.outbox.claim(2, LEASE)] == [5]


def test_a_retried_mail_waits_for_its_delay(side: Subscribers, engine: Engine, clock: Clock) -> None:
    queue(side, "alice")
    [mail] = side.outbox.claim(10, LEASE)
    side.outbox.record([MailOutcome(mail.id, MailState.PENDING, "SMTP 451: mailbox of alice@example.org busy",
                                timedelta(seconds=30))])
    assert side.outbox.claim(10, LEASE) == []
    clock.advance(seconds=30)
    assert [m.id for m in side.outbox.claim(10, LEASE)] == [mail.id]
    with engine.connect() as conn:
        assert conn.execute(select(OutboxRow.last_error)).scalar() == "SMTP 451: mailbox of <address> busy"


def test_finished_mail_is_counted_then_forgotten_by_the_purge(side: Subscribers, clock: Clock) -> None:
    queue(side, "alice", "bob", "carol")
    sent, failed, cancelled = side.outbox.claim(10, LEASE)
    side.outbox.record([MailOutcome(sent.id, MailState.SENT), MailOutcome(failed.id, MailState.FAILED, "SMTP 550: no"),
                        MailOutcome(cancelled.id, MailState.CANCELLED)])
    assert side.outbox.counts() == {MailState.PENDING: 0, MailState.SENDING: 0, MailState.SENT: 1,
                                    MailState.FAILED: 1, MailState.CANCELLED: 1}
    clock.advance(days=8)
    side.store.purge(timedelta(days=7))
    assert sum(side.outbox.counts().values()) == 0


def test_next_due_is_the_earliest_waiting_mail(side: Subscribers, clock: Clock) -> None:
    assert side.outbox.next_due() is None
    queue(side, "alice")
    due = side.outbox.next_due()
    assert due is not None
    assert due.replace(tzinfo=None) == clock.now.replace(tzinfo=None)


@pytest.mark.parametrize(("reply", "stored"), [
    ("550 5.1.1 <alice@example.org>: Recipient address rejected", "550 5.1.1 <<address>>: Recipient address rejected"),
    ("452 too many for bob@example.org, carol@example.org", "452 too many for <address>, <address>"),
    ("421 try later", "421 try later"),
], ids=["bracketed", "two-addresses", "none"])
def test_a_server_reply_is_stored_without_any_address(reply: str, stored: str) -> None:
    assert scrub(reply) == stored
