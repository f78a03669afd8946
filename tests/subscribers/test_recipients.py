"""The sender's door: confirmed recipients in id order, in flat memory, with working unsubscribe links."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, event, insert, select

from newsletter.config.settings import Config
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients, confirmed_recipients
from subscribers.side import Subscribers
from subscribers.store import Action, Consent, confirmed_ids
from subscribers.tables import Status, SubscriberRow
from subscribers.tokens import Purpose

WEB = Consent("web-signup", "signup-test")


def subscribe(side: Subscribers, name: str, *, confirm: bool = True) -> int:
    side.store.sign_up(parse(f"{name}@example.org"), WEB)
    with side.engine.connect() as conn:
        index = side.crypto.blind_index(f"{name}@example.org")
        found = conn.execute(select(SubscriberRow.id, SubscriberRow.nonce)
                             .where(SubscriberRow.blind_index == index)).one()
    if confirm:
        side.store.confirm(found.id, found.nonce)
    return int(found.id)


def test_confirmed_recipients_come_in_id_order_with_their_own_unsubscribe_url(
        side: Subscribers, engine: Engine, config: Config) -> None:
    ids = [subscribe(side, name, confirm=name != "bob") for name in ("alice", "bob", "carol", "dave")]
    got = list(confirmed_recipients(engine, config, batch_size=2))
    assert [(i, a) for i, a, _ in got] == [(ids[0], "alice@example.org"), (ids[2], "carol@example.org"),
                                           (ids[3], "dave@example.org")]
    url = got[1][2]
    assert url.startswith("https://news.example.org/unsubscribe?token=")
    token = parse_qs(urlsplit(url).query)["token"][0]
    claims = side.signer.verify(token, Purpose.UNSUBSCRIBE, datetime(2099, 1, 1, tzinfo=UTC))
    assert claims.subscriber_id == ids[2]
    assert side.store.unsubscribe(claims.subscriber_id, claims.nonce) is Action.DONE


def test_recipients_resume_after_a_given_id(side: Subscribers, engine: Engine, config: Config) -> None:
    ids = [subscribe(side, name) for name in ("alice", "bob", "carol")]
    assert [i for i, _, _ in confirmed_recipients(engine, config, after_id=ids[0])] == ids[1:]


def test_recipients_are_fetched_one_bounded_batch_at_a_time(side: Subscribers, engine: Engine,
                                                            config: Config) -> None:
    for n in range(7):
        subscribe(side, f"reader{n}")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]) if "FROM subscribers" in args[2] else None)
    iterator = confirmed_recipients(engine, config, batch_size=3)
    next(iterator)
    assert len(statements) == 1
    assert "LIMIT" in statements[0].upper()
    assert len(list(iterator)) == 6
    assert len(statements) == 3


def _bulk_confirmed(side: Subscribers, count: int, start: int) -> None:
    now = datetime(2026, 11, 16, tzinfo=UTC)
    rows = []
    for n in range(start, start + count):
        lookup = f"bulk{n}@example.org"
        index = side.crypto.blind_index(lookup)
        rows.append({"blind_index": index, "address": side.crypto.seal(lookup, index), "status": Status.CONFIRMED,
                     "nonce": f"{n:016x}", "consent_form": "test", "consent_text_version": "test",
                     "signed_up_at": now, "created_at": now, "updated_at": now})
    with side.engine.begin() as conn:
        conn.execute(insert(SubscriberRow), rows)


def _peak_while_iterating(engine: Engine, config: Config) -> int:
    tracemalloc.start()
    try:
        count = sum(1 for _ in confirmed_recipients(engine, config, batch_size=200))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count > 0
    return peak


def test_memory_does_not_grow_with_the_size_of_the_list(side: Subscribers, engine: Engine,
                                                        config: Config) -> None:
    _bulk_confirmed(side, 1_000, 0)
    small = _peak_while_iterating(engine, config)
    _bulk_confirmed(side, 9_000, 1_000)
    large = _peak_while_iterating(engine, config)
    # Ten times the list; a list that grew with it would need about ten times the memory.
    assert large < small * 1.5


def test_lookup_drops_those_who_left_mid_send(side: Subscribers, engine: Engine, config: Config) -> None:
    ids = [subscribe(side, name) for name in ("alice", "bob", "carol")]
    with engine.connect() as conn:
        bob_nonce = conn.execute(select(SubscriberRow.nonce).where(SubscriberRow.id == ids[1])).scalar_one()
    side.store.unsubscribe(ids[1], bob_nonce)
    got = SubscriberRecipients(config, engine).lookup([ids[2], ids[1], ids[0], 9_999])
    assert {i: r.address for i, r in got.items()} == {ids[0]: "alice@example.org", ids[2]: "carol@example.org"}
    assert got[ids[2]].subscriber_id == ids[2]
    assert got[ids[2]].unsubscribe_url.startswith("https://news.example.org/unsubscribe?token=")


def test_a_bounce_takes_a_recipient_off_the_list(side: Subscribers, engine: Engine, config: Config) -> None:
    ids = [subscribe(side, name) for name in ("alice", "bob")]
    SubscriberRecipients(config, engine).mark_bounced([ids[0]])
    assert [i for i, _, _ in confirmed_recipients(engine, config)] == [ids[1]]


def test_confirmed_ids_selects_only_ids_for_the_ledger(side: Subscribers, engine: Engine) -> None:
    ids = [subscribe(side, name, confirm=name != "bob") for name in ("alice", "bob", "carol")]
    with engine.connect() as conn:
        assert sorted(conn.execute(confirmed_ids()).scalars()) == [ids[0], ids[2]]


def test_a_batch_size_below_one_is_refused(engine: Engine, config: Config) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        next(confirmed_recipients(engine, config, batch_size=0))
