"""The reader's own page through Starlette's TestClient: GET shows, POST acts, every act is recorded."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from newsletter.config.settings import Config
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.issues.tables import IssueRow
from newsletter.service.site import site
from subscribers.blocking import Blocking
from subscribers.manage import PAUSES
from subscribers.pages import Pages
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.tables import ConsentEventRow, Status
from subscribers.tokens import Purpose
from subscribers.web import create_app
from tests.conftest import Clock
from tests.subscribers.web_client import client_for, link_token, sign_up, stored


def confirmed(client: TestClient, side: Subscribers, address: str) -> str:
    """Sign `address` up and confirm it; the token of its manage link."""
    sign_up(client, address)
    client.post("/confirm", data={"token": link_token(side, address)})
    row = stored(side, address)
    return side.links.manage_url(row.id, row.nonce).split("token=", 1)[1]


CONFIRMED = ("confirmed", "confirmation link")  # what every reader's history starts with


def events(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return [(row.action, row.detail) for row in conn.execute(
            select(ConsentEventRow.action, ConsentEventRow.detail).order_by(ConsentEventRow.id))]


def snapshot(config: Config, engine: Engine, clock: Clock) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(SubscriberRecipients(config, engine, now=clock).confirmed_ids()).scalars())


def test_the_welcome_page_links_to_the_readers_own_page(client: TestClient, side: Subscribers) -> None:
    sign_up(client, "alice@example.org")
    page = client.post("/confirm", data={"token": link_token(side, "alice@example.org")})
    link = re.search(r'<a href="(manage\?token=[^"]+)">Manage your subscription</a>', page.text)
    assert link is not None
    assert "alice@example.org" in client.get("/" + link.group(1)).text


def test_opening_the_page_shows_what_is_kept_and_changes_nothing(client: TestClient, side: Subscribers,
                                                                engine: Engine) -> None:
    token = confirmed(client, side, "alice@example.org")
    page = client.get(f"/manage?token={token}")
    assert page.status_code == 200
    assert "<dd>alice@example.org</dd>" in page.text
    assert "<dd>subscribed</dd>" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert stored(side, "alice@example.org").status == Status.CONFIRMED
    assert events(engine) == [CONFIRMED]


@pytest.mark.parametrize("weeks", sorted(PAUSES))
def test_a_pause_skips_the_snapshots_until_it_ends_and_is_recorded(client: TestClient, side: Subscribers,
                                                                   engine: Engine, config: Config,
                                                                   clock: Clock, weeks: str) -> None:
    token = confirmed(client, side, "alice@example.org")
    alice = stored(side, "alice@example.org").id
    page = client.post("/manage", data={"token": token, "do": "pause", "weeks": weeks})
    assert page.status_code == 200
    assert "Paused. No issue is sent before" in page.text
    assert snapshot(config, engine, clock) == []
    clock.advance(weeks=int(weeks), seconds=-1)
    assert snapshot(config, engine, clock) == []
    clock.advance(seconds=1)
    assert snapshot(config, engine, clock) == [alice]
    assert events(engine) == [CONFIRMED, ("paused", f"{weeks} week{'s' if weeks != '1' else ''}")]


def test_resuming_ends_a_pause_at_once(client: TestClient, side: Subscribers, engine: Engine, config: Config,
                                       clock: Clock) -> None:
    token = confirmed(client, side, "alice@example.org")
    client.post("/manage", data={"token": token, "do": "pause", "weeks": "8"})
    page = client.post("/manage", data={"token": token, "do": "resume"})
    assert "Started again" in page.text
    assert snapshot(config, engine, clock) == [stored(side, "alice@example.org").id]
    assert [action for action, _ in events(engine)] == ["confirmed", "paused", "resumed"]


def test_the_consent_record_has_no_place_for_an_ip_address(engine: Engine) -> None:
    columns = {column["name"] for column in inspect(engine).get_columns("consent_events")}
    assert columns == {"id", "subscriber_id", "action", "detail", "at"}


@pytest.mark.parametrize("fields", [{"do": "pause", "weeks": "3"}, {"do": "pause"}, {"do": "pause", "weeks": "-1"},
                                    {"do": "nothing"}, {}, {"do": "erase"}, {"do": "erase", "sure": "no"}],
                         ids=["three-weeks", "no-weeks", "negative", "unknown-action", "no-action",
                              "erase-unticked", "erase-not-yes"])
def test_a_bad_request_is_explained_and_changes_nothing(client: TestClient, side: Subscribers, engine: Engine,
                                                       fields: dict[str, str]) -> None:
    token = confirmed(client, side, "alice@example.org")
    page = client.post("/manage", data={"token": token, **fields})
    assert page.status_code == 400
    assert 'class="problem" role="alert"' in page.text
    row = stored(side, "alice@example.org")
    assert (row.status, row.paused_until) == (Status.CONFIRMED, None)
    assert events(engine) == [CONFIRMED]


def test_unsubscribing_from_the_page_wipes_the_address_and_is_recorded(client: TestClient, side: Subscribers,
                                                                       engine: Engine) -> None:
    token = confirmed(client, side, "alice@example.org")
    page = client.post("/manage", data={"token": token, "do": "leave"})
    assert "Unsubscribed." in page.text
    row = stored(side, "alice@example.org")
    assert (row.status, row.address) == (Status.UNSUBSCRIBED, None)
    assert events(engine) == [CONFIRMED, ("unsubscribed", "own page")]
    paused = client.post("/manage", data={"token": token, "do": "pause", "weeks": "1"})
    assert paused.status_code == 409
    assert events(engine) == [CONFIRMED, ("unsubscribed", "own page")]


def test_the_download_holds_the_readers_address_and_history_and_nobody_elses(client: TestClient,
                                                                              side: Subscribers) -> None:
    token = confirmed(client, side, "alice@example.org")
    confirmed(client, side, "bob@example.org")
    client.post("/manage", data={"token": token, "do": "pause", "weeks": "2"})
    answer = client.post("/manage", data={"token": token, "do": "download"})
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == 'attachment; filename="my-subscription.json"'
    document: dict[str, Any] = json.loads(answer.text)
    assert document["address"] == "alice@example.org"
    assert document["status"] == "confirmed"
    assert [event["action"] for event in document["history"]] == ["confirmed", "paused"]
    assert document["consent"]["form"] == "web-signup"
    assert "bob" not in answer.text


def test_deleting_everything_leaves_nothing_and_the_link_stops_working(side: Subscribers, config: Config,
                                                                      engine: Engine) -> None:
    forgotten: list[int] = []
    app = create_app(side, Pages(config, side.signer, side.now), forget=forgotten.append)
    client = client_for(side, config, app=app)
    token = confirmed(client, side, "alice@example.org")
    alice = stored(side, "alice@example.org").id
    client.post("/manage", data={"token": token, "do": "pause", "weeks": "1"})
    page = client.post("/manage", data={"token": token, "do": "erase", "sure": "yes"})
    assert "<h1>Everything is deleted</h1>" in page.text
    assert forgotten == [alice]
    assert stored(side, "alice@example.org") is None
    assert events(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
    for again in (client.get(f"/manage?token={token}"),
                  client.post("/manage", data={"token": token, "do": "pause", "weeks": "1"})):
        assert again.status_code == 400
        assert "<h1>This subscription no longer exists</h1>" in again.text


def _tampered(token: str) -> str:
    """The same token with another subscriber id in it: the signature no longer fits."""
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[8] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def test_a_tampered_or_foreign_token_is_refused_and_changes_nothing(client: TestClient, side: Subscribers,
                                                                   engine: Engine) -> None:
    token = confirmed(client, side, "alice@example.org")
    unsubscribe = link_token(side, "alice@example.org", Purpose.UNSUBSCRIBE)
    for bad in (_tampered(token), unsubscribe, token[:-3], "x" * 200):
        for answer in (client.get(f"/manage?token={bad}"),
                       client.post("/manage", data={"token": bad, "do": "leave"})):
            assert answer.status_code == 400
            assert "<h1>This link does not work</h1>" in answer.text
            assert "alice@example.org" not in answer.text
    assert stored(side, "alice@example.org").status == Status.CONFIRMED
    assert events(engine) == [CONFIRMED]


def test_the_page_without_a_token_explains_where_the_link_is(client: TestClient) -> None:
    page = client.get("/manage")
    assert page.status_code == 200
    assert "<h1>Open your own page from an email</h1>" in page.text


def test_a_post_from_another_site_is_refused(client: TestClient, side: Subscribers, engine: Engine) -> None:
    token = confirmed(client, side, "alice@example.org")
    answer = client.post("/manage", data={"token": token, "do": "leave"},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert stored(side, "alice@example.org").status == Status.CONFIRMED


def test_the_issue_recipients_carry_their_own_manage_link(client: TestClient, side: Subscribers,
                                                          config: Config, engine: Engine) -> None:
    token = confirmed(client, side, "alice@example.org")
    alice = stored(side, "alice@example.org").id
    [recipient] = SubscriberRecipients(config, engine).lookup([alice]).values()
    assert recipient.manage_url == f"https://news.example.org/manage?token={token}"


def test_the_download_lists_the_issues_sent_to_the_reader_and_how_each_went_and_nobody_elses(
        side: Subscribers, config: Config, engine: Engine) -> None:
    app = site(side, Pages(config, side.signer, side.now), wake=lambda: None, blocking=Blocking(engine))
    client = client_for(side, config, app=app)
    token = confirmed(client, side, "alice@example.org")
    confirmed(client, side, "bob@example.org")
    alice, bob = stored(side, "alice@example.org").id, stored(side, "bob@example.org").id
    at = datetime(2026, 11, 23, 7, 0, 5, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        for week in ("2026-W47", "2026-W48"):
            session.add(IssueRow(week=week, subject="Subject", created_at=at))
        session.flush()
        ids = dict(session.execute(select(IssueRow.week, IssueRow.id)).all())
        session.execute(insert(DeliveryRow), [
            {"issue_id": ids["2026-W47"], "subscriber_id": alice, "state": DeliveryState.SENT, "attempts": 1,
             "finished_at": at},
            {"issue_id": ids["2026-W48"], "subscriber_id": alice, "state": DeliveryState.DEFERRED, "attempts": 1},
            {"issue_id": ids["2026-W48"], "subscriber_id": bob, "state": DeliveryState.SENT, "attempts": 1,
             "finished_at": at}])
    document = json.loads(client.post("/manage", data={"token": token, "do": "download"}).text)
    assert document["issues"] == [{"issue": "2026-W47", "outcome": "sent", "at": at.isoformat()},
                                  {"issue": "2026-W48", "outcome": "deferred", "at": None}]
