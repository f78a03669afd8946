"""Acting on returned mail: who ends up suppressed, what the ledger row says, and what changes nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.delivery.tables import DeliveryState
from newsletter.inbound import store
from newsletter.inbound.tables import Handling
from subscribers.addresses import parse
from subscribers.store import Consent
from subscribers.tables import Status
from subscribers.verp import ReturnAddresses
from tests.conftest import Clock
from tests.newsletter.inbound.conftest import DOMAIN, READERS, SentIssue, send_issue_to
from tests.newsletter.inbound.returned_mail import arf, dsn, out_of_office, plain_mail

ALICE, BOB = READERS[0], READERS[1]


def test_a_permanent_bounce_suppresses_that_reader_and_marks_the_sent_row_bounced_with_a_redacted_reason(
        sent: SentIssue) -> None:
    handled = sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE))
    assert (handled.handling, handled.subscriber_id) == (Handling.BOUNCED, sent.ids[ALICE])
    assert sent.status(ALICE) is Status.BOUNCED
    state, reason = sent.row(ALICE)
    assert state is DeliveryState.BOUNCED
    assert reason is not None
    assert "5.1.1" in reason
    assert ALICE not in reason
    assert "r***@example.com" in reason
    assert {sent.status(r) for r in READERS[1:]} == {Status.CONFIRMED}


def test_temporary_bounces_suppress_only_at_the_soft_limit_within_soft_days(sent: SentIssue, clock: Clock) -> None:
    full = {"status": "4.2.2", "diagnostic": "smtp; 452 4.2.2 Mailbox full"}
    sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE, **full) + b"\r\n1")
    clock.advance(days=31)  # the first one is now outside soft_days (30)
    sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE, **full) + b"\r\n2")
    sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE, **full) + b"\r\n3")
    assert sent.status(ALICE) is Status.CONFIRMED
    assert sent.row(ALICE)[0] is DeliveryState.SENT
    sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE, **full) + b"\r\n4")
    assert sent.status(ALICE) is Status.BOUNCED
    state, reason = sent.row(ALICE)
    assert state is DeliveryState.BOUNCED
    assert reason is not None
    assert reason.startswith("3 temporary bounces within 30 days")


def test_an_arf_complaint_suppresses_as_complained_and_marks_the_row_complained(sent: SentIssue) -> None:
    handled = sent.processor.handle(arf("fbl@news.example.org", sent.bounce_address(BOB),
                                        sent.unsubscribe_address(BOB)))
    assert handled.handling is Handling.COMPLAINED
    assert sent.status(BOB) is Status.COMPLAINED
    assert sent.row(BOB)[0] is DeliveryState.COMPLAINED


def test_a_complaint_quoting_only_the_unsubscribe_address_still_suppresses(sent: SentIssue) -> None:
    sent.processor.handle(arf("fbl@news.example.org", "someone@elsewhere.example", sent.unsubscribe_address(BOB)))
    assert sent.status(BOB) is Status.COMPLAINED
    assert sent.row(BOB)[0] is DeliveryState.SENT  # no issue named: the row stays as it was


def test_any_mail_to_the_unsubscribe_address_unsubscribes_once_and_answers_nothing(sent: SentIssue) -> None:
    for body in ("please stop", "again"):
        sent.processor.handle(plain_mail(sent.unsubscribe_address(BOB), body=body))
    assert sent.status(BOB) is Status.UNSUBSCRIBED
    assert sent.side.store.counts()[Status.UNSUBSCRIBED] == 1


def test_an_unsubscribe_address_of_an_earlier_subscription_leaves_the_new_one_alone(sent: SentIssue) -> None:
    old = sent.unsubscribe_address(BOB)
    sent.processor.handle(plain_mail(old, body="first"))
    sent.side.store.sign_up(parse(BOB), Consent("web", "v1"))  # back through the form: a new subscription
    handled = sent.processor.handle(plain_mail(old, body="second"))
    assert handled.handling is Handling.UNSUBSCRIBED
    assert sent.status(BOB) is Status.PENDING


def test_auto_replies_and_other_mail_are_counted_and_change_nothing(sent: SentIssue) -> None:
    sent.processor.handle(out_of_office(sent.bounce_address(ALICE)))
    sent.processor.handle(plain_mail(sent.bounce_address(ALICE), "Re: Weekly Lessons"))
    assert sent.status(ALICE) is Status.CONFIRMED
    with sent.sessions() as session:
        counts = store.handled_counts(session)
    assert (counts[Handling.AUTO_REPLY], counts[Handling.OTHER]) == (1, 1)


def test_the_same_message_twice_is_handled_once(sent: SentIssue) -> None:
    full = dsn(sent.bounce_address(ALICE), ALICE, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full")
    assert not sent.processor.handle(full).duplicate
    assert sent.processor.handle(full).duplicate
    with sent.sessions() as session:
        assert store.soft_bounces(session, sent.ids[ALICE], sent.processor._clock() - timedelta(days=1)) == 1


@pytest.mark.parametrize("forge", ["tampered", "other-key", "expired", "never-sent", "no-token"])
def test_a_bounce_that_is_not_genuine_suppresses_nobody_and_says_why_in_one_line(
        sent: SentIssue, clock: Clock, caplog: pytest.LogCaptureFixture, forge: str) -> None:
    genuine = sent.bounce_address(ALICE)
    local, _, domain = genuine.partition("@")
    address = {
        "tampered": f"{local[:-3]}{'a' if local[-3] != 'a' else 'b'}{local[-2:]}@{domain}",
        "other-key": ReturnAddresses(b"x" * 32, DOMAIN, "bounces", "unsubscribe", 90).bounce_address(
            sent.ids[ALICE], sent.nonces[ALICE], sent.issue_id),
        "expired": genuine,
        "never-sent": sent.bounce_address(ALICE, issue_id=sent.issue_id + 1),
        "no-token": "letters@news.example.org",
    }[forge]
    if forge == "expired":
        clock.advance(days=91)
    with caplog.at_level(logging.WARNING):
        handled = sent.processor.handle(dsn(address, ALICE))
    assert handled.handling is Handling.REFUSED
    assert {sent.status(r) for r in READERS} == {Status.CONFIRMED}
    assert sent.row(ALICE)[0] is DeliveryState.SENT
    [line] = [r.getMessage() for r in caplog.records if r.name == "newsletter.inbound.process"]
    assert "nobody was changed" in line
    assert ALICE not in line
    assert "\n" not in line


def test_a_bounced_confirmation_email_cancels_the_sign_up(tmp_path: Path, engine: Engine, database_url: str,
                                                          clock: Clock) -> None:
    sent = send_issue_to(tmp_path, engine, database_url, clock, [ALICE])
    sent.side.store.sign_up(parse("newcomer@example.org"), Consent("web", "v1"))
    newcomer = sent.side.store.identify(parse("newcomer@example.org"))
    assert newcomer is not None
    [(address, nonce)] = sent.side.store.pending_addresses([newcomer]).values()
    bounce_to = sent.side.returns.bounce_address(newcomer, nonce)
    handled = sent.processor.handle(dsn(bounce_to, address))
    assert handled.handling is Handling.CANCELLED
    assert sent.side.store.lookup(parse("newcomer@example.org")) is Status.BOUNCED
