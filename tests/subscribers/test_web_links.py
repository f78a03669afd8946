"""Confirm and unsubscribe links, health and error pages, through Starlette's TestClient."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from newsletter.config.settings import Config
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from subscribers.side import Subscribers
from subscribers.tables import MailState, Status
from subscribers.tokens import Purpose
from tests.conftest import Clock
from tests.subscribers.web_client import client_for, link_token, sign_up, stored


def test_opening_the_confirm_link_only_shows_a_button(client: TestClient, side: Subscribers) -> None:
    sign_up(client, "alice@example.org")
    token = link_token(side, "alice@example.org")
    page = client.get(f"/confirm?token={token}")
    assert page.status_code == 200
    assert '<form method="post" action="confirm">' in page.text
    assert f'<input type="hidden" name="token" value="{token}">' in page.text
    assert stored(side, "alice@example.org").status == "pending"


def test_pressing_confirm_confirms_once_and_a_replay_is_harmless(client: TestClient, side: Subscribers) -> None:
    sign_up(client, "alice@example.org")
    token = link_token(side, "alice@example.org")
    first = client.post("/confirm", data={"token": token})
    again = client.post("/confirm", data={"token": token})
    assert (first.status_code, again.status_code) == (200, 200)
    assert "You are subscribed" in first.text
    assert first.content == again.content
    row = stored(side, "alice@example.org")
    assert row.status == "confirmed"
    assert side.outbox.counts()[MailState.CANCELLED] == 1


def test_bad_confirm_links_are_explained_and_change_nothing(client: TestClient, side: Subscribers,
                                                            clock: Clock) -> None:
    sign_up(client, "alice@example.org")
    sign_up(client, "bob@example.org")
    good = link_token(side, "alice@example.org")
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    unsubscribe = link_token(side, "bob@example.org", Purpose.UNSUBSCRIBE)
    cases = [(forged, "This link does not work"), (unsubscribe, "This link does not work"),
             ("", "This link does not work")]
    for token, heading in cases:
        for response in (client.get(f"/confirm?token={token}"), client.post("/confirm", data={"token": token})):
            assert response.status_code == 400
            assert f"<h1>{heading}</h1>" in response.text
    clock.advance(days=7, seconds=1)
    expired = client.post("/confirm", data={"token": good})
    assert expired.status_code == 400
    assert "<h1>This link has expired</h1>" in expired.text
    assert side.store.counts()[Status.PENDING] == 2


def _confirmed(client: TestClient, side: Subscribers, address: str) -> str:
    sign_up(client, address)
    client.post("/confirm", data={"token": link_token(side, address)})
    return link_token(side, address, Purpose.UNSUBSCRIBE)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_unsubscribe_answers_200_without_redirect_or_cookie(client: TestClient, side: Subscribers,
                                                                      encoding: str) -> None:
    token = _confirmed(client, side, "alice@example.org")
    body: dict[str, Any] = {"data": {"List-Unsubscribe": "One-Click"}}
    if encoding == "multipart":
        body = {"files": {"List-Unsubscribe": (None, "One-Click")}}
    fresh = TestClient(client.app, follow_redirects=False)  # a mail provider: no cookies, no form token
    response = fresh.post(f"/unsubscribe?token={token}", **body)
    assert response.status_code == 200
    assert "location" not in response.headers
    assert "set-cookie" not in response.headers
    row = stored(side, "alice@example.org")
    assert (row.status, row.address) == ("unsubscribed", None)
    assert fresh.post(f"/unsubscribe?token={token}", **body).status_code == 200


def test_the_unsubscribe_link_shows_a_button_and_the_button_unsubscribes(client: TestClient,
                                                                         side: Subscribers) -> None:
    token = _confirmed(client, side, "alice@example.org")
    page = client.get(f"/unsubscribe?token={token}")
    assert '<form method="post" action="unsubscribe">' in page.text
    assert stored(side, "alice@example.org").status == "confirmed"
    done = client.post("/unsubscribe", data={"token": token})
    assert "You are unsubscribed" in done.text
    assert stored(side, "alice@example.org").status == "unsubscribed"


def test_an_old_unsubscribe_link_cannot_end_a_new_subscription(client: TestClient, side: Subscribers,
                                                              clock: Clock) -> None:
    old = _confirmed(client, side, "alice@example.org")
    client.post(f"/unsubscribe?token={old}", data={"List-Unsubscribe": "One-Click"})
    clock.advance(hours=2)
    _confirmed(client, side, "alice@example.org")
    replay = client.post(f"/unsubscribe?token={old}", data={"List-Unsubscribe": "One-Click"})
    assert replay.status_code == 400
    assert "<h1>This link is out of date</h1>" in replay.text
    assert stored(side, "alice@example.org").status == "confirmed"


def test_health_says_ok_while_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_a_database_failure_shows_a_page_without_a_trace_or_an_address(
        side: Subscribers, config: Config, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE signups"))
    with caplog.at_level(logging.ERROR), client_for(side, config) as client:
        response = sign_up(client, "alice@example.org")
    assert response.status_code == 503
    assert "Something went wrong" in response.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert re.search(r"POST /subscribe: the subscriber database failed \((OperationalError|UndefinedTable)\)",
                     logged)
    for leak in ("alice", "Traceback", "INSERT", "SELECT", "subscribers."):
        assert leak not in response.text
        assert leak not in logged


def test_health_fails_when_the_database_is_gone(config: Config, tmp_path: Any) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    broken = connect(f"sqlite:///{folder}/news.db")
    migrate(broken)
    side = Subscribers(config, broken)  # starts on a database that is there...
    broken.dispose()
    shutil.rmtree(folder)  # ...which then goes away
    with client_for(side, config) as client:
        response = client.get("/healthz")
    assert (response.status_code, response.text) == (503, "database unavailable\n")


@contextmanager
def writes_locked_out(engine: Engine) -> Iterator[None]:
    """Another process holding the write lock (SQLite) or the sign-up table (PostgreSQL); reads go on."""
    with engine.connect() as holder:
        if engine.dialect.name == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            holder.execute(text("LOCK TABLE signups IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            holder.rollback()


def test_health_fails_while_sign_ups_could_not_be_written(client: TestClient, engine: Engine) -> None:
    assert client.get("/healthz").status_code == 200
    with writes_locked_out(engine):
        with engine.connect() as reader:
            reader.execute(text("SELECT 1"))  # reading still works: a SELECT alone would say "ok"
        response = client.get("/healthz")
        assert (response.status_code, response.text) == (503, "database unavailable\n")
    assert client.get("/healthz").status_code == 200


def test_unknown_pages_and_methods_get_friendly_answers(client: TestClient) -> None:
    missing = client.get("/admin")
    assert missing.status_code == 404
    assert "<h1>Page not found</h1>" in missing.text
    wrong = client.delete("/subscribe")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
