"""A new address from the reader's own page: the old one stays in force until the new one confirms; the
answer is the same whether the new address is on the list or not; no mail bombing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from newsletter.config.settings import Config
from subscribers.addresses import parse
from subscribers.outbox import CHANGE
from subscribers.pages import Pages
from subscribers.side import Subscribers
from subscribers.store import Action, Change, Consent
from subscribers.tables import OutboxRow, Status, SubscriberRow
from subscribers.tokens import Purpose
from subscribers.web import create_app
from subscribers.worker import OutboxWorker
from tests.conftest import Clock
from tests.newsletter.smtp_server import SmtpServer
from tests.subscribers.test_worker import confirm_token, worker_for
from tests.subscribers.web_client import client_for

PAPER = Consent("import", "test", "on paper")
CHANGE_LINK = re.compile(r"https?://[^/\s]+/manage/change\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as running:
        yield running


def reader(side: Subscribers, address: str = "alice@example.org") -> tuple[int, str, str]:
    """A confirmed reader: (id, nonce, manage token)."""
    side.store.add_confirmed(parse(address), PAPER)
    subscriber_id = side.store.identify(parse(address))
    assert subscriber_id is not None
    nonce = _nonce(side, subscriber_id)
    return subscriber_id, nonce, side.links.manage_url(subscriber_id, nonce).split("token=", 1)[1]


def _nonce(side: Subscribers, subscriber_id: int) -> str:
    with side.engine.connect() as conn:
        return str(conn.execute(select(SubscriberRow.nonce).where(SubscriberRow.id == subscriber_id)).scalar_one())


def change_mails(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(OutboxRow.id).where(OutboxRow.kind == CHANGE)).all())


def in_force(side: Subscribers, subscriber_id: int) -> str:
    [(address, _)] = side.store.confirmed_addresses([subscriber_id]).values()
    return address


@pytest.mark.anyio
async def test_the_old_address_stays_until_the_new_one_confirms_then_only_the_new(
        side: Subscribers, config: Config, server: SmtpServer, clock: Clock) -> None:
    alice, nonce, _ = reader(side)
    assert side.store.request_change(alice, nonce, parse("alice.new@example.org")) is Change.MAILED
    assert in_force(side, alice) == "alice@example.org"
    worker: OutboxWorker = worker_for(side, config, server)
    assert await worker.run_once() == 1
    await worker.transport.close()
    [mail] = server.received
    assert mail.recipients == ("alice.new@example.org",)
    assert b"Please confirm your new address" in mail.data
    claims = side.signer.verify(confirm_token(mail.data, CHANGE_LINK), Purpose.CHANGE, clock.now)
    assert in_force(side, alice) == "alice@example.org"
    assert side.store.confirm_change(claims.subscriber_id, claims.nonce) is Action.DONE
    assert in_force(side, alice) == "alice.new@example.org"
    assert side.store.lookup(parse("alice@example.org")) is None
    assert side.store.lookup(parse("alice.new@example.org")) is Status.CONFIRMED
    assert side.store.confirm_change(claims.subscriber_id, claims.nonce) is Action.STALE


def test_a_link_to_an_address_no_longer_asked_for_confirms_nothing(side: Subscribers, clock: Clock) -> None:
    alice, nonce, _ = reader(side)
    side.store.request_change(alice, nonce, parse("first@example.org"))
    [(_, first_nonce)] = side.store.change_addresses([alice]).values()
    clock.advance(hours=1)
    assert side.store.request_change(alice, nonce, parse("second@example.org")) is Change.MAILED
    assert side.store.confirm_change(alice, first_nonce) is Action.STALE
    assert in_force(side, alice) == "alice@example.org"


def _ask(client: TestClient, token: str, address: str) -> str:
    page = client.post("/manage", data={"token": token, "do": "change", "email": address})
    assert page.status_code == 200
    return re.sub(r'name="token" value="[^"]+"', "", page.text)


def test_the_answer_is_the_same_whether_the_new_address_is_on_the_list_or_not(
        side: Subscribers, config: Config, engine: Engine) -> None:
    alice, _, alice_token = reader(side, "alice@example.org")
    carol, _, carol_token = reader(side, "carol@example.org")
    reader(side, "bob@example.org")
    app = create_app(side, Pages(config, side.signer, side.now))
    taken = _ask(client_for(side, config, app=app, host="192.0.2.1"), alice_token, "bob@example.org")
    free = _ask(client_for(side, config, app=app, host="192.0.2.2"), carol_token, "dave@example.org")
    assert taken.replace("bob@", "X@").replace("alice@", "Y@") == free.replace("dave@", "X@").replace("carol@", "Y@")
    assert change_mails(engine) == 1  # to dave only: bob is on the list and gets nothing
    assert (in_force(side, alice), in_force(side, carol)) == ("alice@example.org", "carol@example.org")


def test_a_hundred_requests_in_a_minute_send_at_most_one_email(side: Subscribers, config: Config,
                                                               engine: Engine) -> None:
    _, _, token = reader(side)
    app = create_app(side, Pages(config, side.signer, side.now))
    answers = []
    for n in range(100):  # from many clients, so the per-client limit alone would not stop them
        client = client_for(side, config, app=app, host=f"192.0.2.{n % 50 + 1}")
        answers.append(client.post("/manage", data={"token": token, "do": "change",
                                                    "email": f"victim{n % 3}@example.org"}).status_code)
    assert change_mails(engine) == 1
    assert set(answers) <= {200, 400}
    limited = client_for(side, config, app=app, host="198.51.100.7")
    codes = [limited.post("/manage", data={"token": token, "do": "change", "email": "x@example.org"}).status_code
             for _ in range(config.web.signups_per_client + 1)]
    assert codes[-1] == 400
    assert change_mails(engine) == 1


@pytest.mark.parametrize("typed", ["not-an-address", "two@@example.org", "", "a" * 300 + "@example.org"],
                         ids=["no-at", "two-ats", "empty", "too-long"])
def test_an_invalid_new_address_is_explained_and_changes_nothing(side: Subscribers, config: Config,
                                                                 engine: Engine, typed: str) -> None:
    alice, _, token = reader(side)
    client = client_for(side, config)
    page = client.post("/manage", data={"token": token, "do": "change", "email": typed})
    assert page.status_code == 400
    assert "That is not an address we can use" in page.text
    assert change_mails(engine) == 0
    assert side.store.change_addresses([alice]) == {}


def test_the_confirm_link_only_shows_a_button_and_a_bad_one_is_refused(side: Subscribers, config: Config,
                                                                       clock: Clock) -> None:
    alice, nonce, _ = reader(side)
    side.store.request_change(alice, nonce, parse("alice.new@example.org"))
    [(_, change_nonce)] = side.store.change_addresses([alice]).values()
    token = side.links.change_url(alice, change_nonce).split("token=", 1)[1]
    client = client_for(side, config)
    assert 'action="change"' in client.get(f"/manage/change?token={token}").text
    assert in_force(side, alice) == "alice@example.org"
    manage = side.links.manage_url(alice, nonce).split("token=", 1)[1]
    for bad in (manage, token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        assert client.post("/manage/change", data={"token": bad}).status_code == 400
    assert in_force(side, alice) == "alice@example.org"
    done = client.post("/manage/change", data={"token": token})
    assert "<h1>Your address is changed</h1>" in done.text
    assert in_force(side, alice) == "alice.new@example.org"
