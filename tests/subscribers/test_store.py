"""The subscriber store on SQLite and PostgreSQL: sign-up, double opt-in, leaving, erasure and purging."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from subscribers import consent_events
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.store import Action, Consent, SignUp
from subscribers.tables import MailState, OutboxRow, Status, SubscriberRow
from tests.conftest import Clock

WEB = Consent("web-signup", "signup-0123456789ab")
ALICE = parse("alice@example.org")
BOB = parse("bob@example.org")


def row(engine: Engine, side: Subscribers, address: Any = ALICE) -> Any:
    index = side.crypto.blind_index(address.lookup)
    with engine.connect() as conn:
        return conn.execute(select(SubscriberRow.__table__).where(SubscriberRow.blind_index == index)).first()


def mails(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [(r.subscriber_id, r.state) for r in
                conn.execute(select(OutboxRow.subscriber_id, OutboxRow.state).order_by(OutboxRow.id))]


def test_a_new_address_is_stored_sealed_as_pending_with_one_confirmation_queued(
        side: Subscribers, engine: Engine, clock: Clock) -> None:
    assert side.store.sign_up(ALICE, WEB) is SignUp.NEW
    stored = row(engine, side)
    assert stored.status == "pending"
    assert side.crypto.open(stored.address, stored.blind_index) == "alice@example.org"
    assert (stored.consent_form, stored.consent_text_version, stored.consent_at) == (
        "web-signup", "signup-0123456789ab", None)
    assert mails(engine) == [(stored.id, "pending")]


def test_signing_up_again_mails_at_most_once_an_hour(side: Subscribers, engine: Engine, clock: Clock) -> None:
    assert side.store.sign_up(ALICE, WEB) is SignUp.NEW
    clock.advance(minutes=59)
    assert side.store.sign_up(parse("ALICE@example.org"), WEB) is SignUp.RECENTLY_MAILED
    clock.advance(minutes=1)
    assert side.store.sign_up(ALICE, WEB) is SignUp.MAILED_AGAIN
    assert len(mails(engine)) == 2


@pytest.mark.parametrize("left", ["unsubscribed", "bounced"])
def test_a_suppressed_address_gets_one_confirmation_per_resubscribe_period(side: Subscribers, engine: Engine,
                                                                           clock: Clock, left: str) -> None:
    assert side.settings.resubscribe == timedelta(days=30)
    side.store.sign_up(ALICE, WEB)
    first = row(engine, side)
    side.store.confirm(first.id, first.nonce)
    if left == "unsubscribed":
        side.store.unsubscribe(first.id, first.nonce)
    else:
        side.store.mark_bounced([first.id])
    clock.advance(days=1)
    assert side.store.sign_up(ALICE, WEB) is SignUp.RESTARTED  # a new confirmation: the only way back
    clock.advance(hours=2)
    assert side.store.sign_up(ALICE, WEB) is SignUp.RECENTLY_MAILED  # not one an hour, as for a new address
    clock.advance(days=8)
    side.store.purge(side.settings.pending)  # nobody confirmed: suppressed again
    assert row(engine, side).status == left
    assert side.store.sign_up(ALICE, WEB) is SignUp.SUPPRESSED
    clock.advance(days=22)  # 30 days after the last confirmation email
    assert side.store.sign_up(ALICE, WEB) is SignUp.RESTARTED
    # One confirmation for each period (the first sign-up's, long finished, was forgotten by the purge).
    assert [state for _, state in mails(engine)] == [MailState.PENDING, MailState.PENDING]


def test_a_confirmed_subscriber_who_signs_up_again_gets_nothing(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    stored = row(engine, side)
    assert side.store.confirm(stored.id, stored.nonce) is Action.DONE
    assert side.store.sign_up(ALICE, WEB) is SignUp.ALREADY_CONFIRMED
    assert row(engine, side).nonce == stored.nonce
    assert mails(engine) == [(stored.id, MailState.CANCELLED)]


def test_confirming_records_consent_and_twice_is_still_once(side: Subscribers, engine: Engine,
                                                            clock: Clock) -> None:
    side.store.sign_up(ALICE, WEB)
    stored = row(engine, side)
    clock.advance(hours=2)
    assert side.store.confirm(stored.id, stored.nonce) is Action.DONE
    assert side.store.confirm(stored.id, stored.nonce) is Action.ALREADY
    confirmed = row(engine, side)
    assert confirmed.status == "confirmed"
    assert confirmed.consent_at is not None
    assert confirmed.confirmed_at is not None
    assert side.store.counts()[Status.CONFIRMED] == 1


def test_two_confirmations_at_once_make_one(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    stored = row(engine, side)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: side.store.confirm(stored.id, stored.nonce), range(8)))
    assert sorted(outcomes) == sorted([Action.DONE] + [Action.ALREADY] * 7)


def test_the_same_new_address_signed_up_at_once_is_one_row_and_one_mail(side: Subscribers,
                                                                        engine: Engine) -> None:
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: side.store.sign_up(ALICE, WEB), range(8)))
    assert outcomes.count(SignUp.NEW) == 1
    assert set(outcomes) == {SignUp.NEW, SignUp.RECENTLY_MAILED}
    assert side.store.counts()[Status.PENDING] == 1
    assert len(mails(engine)) == 1


def test_unsubscribing_wipes_the_address_and_keeps_the_blind_index(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    stored = row(engine, side)
    side.store.confirm(stored.id, stored.nonce)
    assert side.store.unsubscribe(stored.id, stored.nonce) is Action.DONE
    assert side.store.unsubscribe(stored.id, stored.nonce) is Action.ALREADY
    left = row(engine, side)
    assert (left.status, left.address, left.blind_index) == ("unsubscribed", None, stored.blind_index)
    assert side.store.lookup(ALICE) is Status.UNSUBSCRIBED


def test_an_old_unsubscribe_token_cannot_touch_a_new_subscription(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    first = row(engine, side)
    side.store.confirm(first.id, first.nonce)
    side.store.unsubscribe(first.id, first.nonce)
    assert side.store.sign_up(ALICE, WEB) is SignUp.RESTARTED
    second = row(engine, side)
    assert second.id == first.id
    assert second.nonce != first.nonce
    assert side.store.confirm(second.id, second.nonce) is Action.DONE
    assert side.store.unsubscribe(first.id, first.nonce) is Action.STALE
    assert side.store.confirm(first.id, first.nonce) is Action.STALE
    assert side.store.lookup(ALICE) is Status.CONFIRMED


def test_a_token_for_someone_else_or_nobody_acts_on_nobody(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    side.store.sign_up(BOB, WEB)
    alice, bob = row(engine, side, ALICE), row(engine, side, BOB)
    assert side.store.confirm(bob.id, alice.nonce) is Action.STALE
    assert side.store.unsubscribe(10_000, alice.nonce) is Action.GONE
    assert side.store.counts()[Status.PENDING] == 2


def test_erase_deletes_the_row_its_suppression_and_its_mail(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    side.store.sign_up(BOB, WEB)
    assert side.store.erase(parse("Alice@Example.org")) is True
    assert side.store.erase(ALICE) is False
    assert side.store.lookup(ALICE) is None
    assert [subscriber for subscriber, _ in mails(engine)] == [row(engine, side, BOB).id]


def test_lookup_finds_every_spelling_of_an_address(side: Subscribers) -> None:
    side.store.sign_up(parse("alice@bücher.example"), WEB)
    assert side.store.lookup(parse("ALICE@xn--bcher-kva.example")) is Status.PENDING
    assert side.store.lookup(BOB) is None


def test_purge_forgets_stale_sign_ups_but_keeps_suppression(side: Subscribers, engine: Engine,
                                                            clock: Clock) -> None:
    side.store.sign_up(ALICE, WEB)
    side.store.sign_up(BOB, WEB)
    carol = parse("carol@example.org")
    side.store.sign_up(carol, WEB)
    stored = row(engine, side, carol)
    side.store.unsubscribe(stored.id, stored.nonce)
    side.store.sign_up(carol, WEB)          # pending again, on top of an unsubscribe
    clock.advance(days=3)
    side.store.sign_up(parse("dave@example.org"), WEB)
    clock.advance(days=4, seconds=1)
    assert side.store.purge(timedelta(days=7)) == 3
    assert [side.store.lookup(a) for a in (ALICE, BOB, carol, parse("dave@example.org"))] == [
        None, None, Status.UNSUBSCRIBED, Status.PENDING]
    assert row(engine, side, carol).address is None


def test_an_import_with_consent_confirms_but_never_revives_an_unsubscribe(side: Subscribers,
                                                                          engine: Engine) -> None:
    imported = Consent("import-confirmed", "consent-given-elsewhere", "paper forms, spring fair 2026")
    side.store.sign_up(BOB, WEB)
    bob = row(engine, side, BOB)
    side.store.unsubscribe(bob.id, bob.nonce)
    side.store.sign_up(parse("carol@example.org"), WEB)
    assert side.store.add_confirmed(ALICE, imported) is SignUp.CONFIRMED
    assert side.store.add_confirmed(ALICE, imported) is SignUp.ALREADY_CONFIRMED
    assert side.store.add_confirmed(BOB, imported) is SignUp.SUPPRESSED
    assert side.store.add_confirmed(parse("carol@example.org"), imported) is SignUp.CONFIRMED
    alice = row(engine, side, ALICE)
    assert (alice.status, alice.consent_form, alice.consent_note) == (
        "confirmed", "import-confirmed", "paper forms, spring fair 2026")
    assert side.store.sign_up(BOB, WEB, restart_suppressed=False) is SignUp.SUPPRESSED


def test_a_bounce_suppresses_a_confirmed_subscriber_and_wipes_the_address(side: Subscribers,
                                                                          engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    alice = row(engine, side)
    assert side.store.mark_bounced([alice.id]) == 0  # only confirmed subscribers bounce
    side.store.confirm(alice.id, alice.nonce)
    assert side.store.mark_bounced([alice.id, 999]) == 1
    assert (row(engine, side).status, row(engine, side).address) == ("bounced", None)


def test_pending_addresses_are_only_given_for_pending_subscribers(side: Subscribers, engine: Engine) -> None:
    side.store.sign_up(ALICE, WEB)
    alice = row(engine, side)
    side.store.sign_up(BOB, WEB)
    bob = row(engine, side, BOB)
    assert side.store.pending_addresses([alice.id, bob.id, 999]) == {
        alice.id: ("alice@example.org", alice.nonce), bob.id: ("bob@example.org", bob.nonce)}
    side.store.confirm(alice.id, alice.nonce)
    assert side.store.pending_addresses([alice.id]) == {}


def test_queued_sign_ups_are_acted_on_together_and_repeats_among_them_count_once(side: Subscribers,
                                                                                  engine: Engine) -> None:
    side.store.queue_sign_ups([(ALICE, WEB), (BOB, WEB), (parse("ALICE@example.org"), WEB)])
    assert row(engine, side) is None  # nothing is decided until the worker acts
    assert side.store.act_on_sign_ups(10) == [SignUp.NEW, SignUp.NEW, SignUp.RECENTLY_MAILED]
    assert side.store.act_on_sign_ups(10) == []
    assert row(engine, side).consent_text_version == "signup-0123456789ab"
    assert len(mails(engine)) == 2


def test_a_sign_up_the_limits_refuse_is_dropped_and_leaves_nothing(side: Subscribers, engine: Engine) -> None:
    side.store.queue_sign_ups([(ALICE, WEB), (BOB, WEB)])
    assert side.store.act_on_sign_ups(10, admit=lambda address: address.startswith("bob")) == [
        SignUp.LIMITED, SignUp.NEW]
    assert row(engine, side) is None
    assert len(mails(engine)) == 1


def test_workers_racing_on_the_same_queued_addresses_make_one_row_and_one_mail_each(side: Subscribers,
                                                                                    engine: Engine) -> None:
    burst = [(parse(f"reader{n}@example.org"), WEB) for n in range(10)]
    for _ in range(4):
        side.store.queue_sign_ups(burst)
    with ThreadPoolExecutor(4) as pool:
        outcomes = [o for result in pool.map(lambda _: _drain(side), range(4)) for o in result]
    assert len(outcomes) == 40
    assert outcomes.count(SignUp.NEW) == 10
    assert side.store.counts()[Status.PENDING] == 10
    assert len(mails(engine)) == 10


def _drain(side: Subscribers) -> list[SignUp]:
    done: list[SignUp] = []
    while outcomes := side.store.act_on_sign_ups(3):
        done += outcomes
    return done


def test_erase_also_drops_the_addresses_sign_ups_still_waiting(side: Subscribers, engine: Engine) -> None:
    side.store.queue_sign_ups([(ALICE, WEB), (BOB, WEB)])
    side.store.erase(ALICE)
    assert side.store.act_on_sign_ups(10) == [SignUp.NEW]
    assert row(engine, side) is None


def history(side: Subscribers, address: Any) -> list[tuple[str, str | None]]:
    found = side.store.identify(address)
    assert found is not None
    with side.engine.connect() as conn:
        return [(event.action, event.detail) for event in consent_events.history(conn, found)]


def test_every_change_of_a_subscription_is_written_in_its_consent_record(side: Subscribers) -> None:
    readers = [parse(f"reader{n}@example.org") for n in range(4)]
    for reader in readers:
        side.store.sign_up(reader, WEB)
        stored = row(side.engine, side, reader)
        assert side.store.confirm(stored.id, stored.nonce) is Action.DONE
    link, bounced, complained, by_mail = (row(side.engine, side, reader) for reader in readers)
    assert side.store.unsubscribe(link.id, link.nonce) is Action.DONE
    assert side.store.mark_bounced([bounced.id]) == 1
    assert side.store.end_by_mail(complained.id, complained.nonce[:8], Status.COMPLAINED)
    assert side.store.end_by_mail(by_mail.id, by_mail.nonce[:8], Status.UNSUBSCRIBED)
    confirmed = ("confirmed", "confirmation link")
    assert [history(side, reader) for reader in readers] == [
        [confirmed, ("unsubscribed", "unsubscribe link")],
        [confirmed, ("bounced", "refused by the receiving server")],
        [confirmed, ("complained", "a complaint")],
        [confirmed, ("unsubscribed", "a mail to the unsubscribe address")],
    ]


def test_a_change_that_does_not_happen_is_not_written(side: Subscribers) -> None:
    side.store.sign_up(ALICE, WEB)
    stored = row(side.engine, side)
    assert side.store.confirm(stored.id, "not-its-nonce") is Action.STALE
    assert side.store.mark_bounced([stored.id]) == 0  # pending: a bounce of an issue cannot concern it
    assert history(side, ALICE) == []
