"""The endpoint against abuse: no state shows in the work a request does or in its answer, sub-addresses
cannot multiply one mailbox's confirmation emails, and only the site's own page can post the form."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from newsletter.config import settings
from newsletter.config.settings import Config
from newsletter.delivery.transports.outbox_folder import OutboxTransport
from subscribers.addresses import parse
from subscribers.confirmation import ConfirmationMail
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.worker import OutboxWorker
from tests.conftest import Clock, write_config
from tests.subscribers.web_client import Wakes, app_for, client_for, form_token, sign_up, stored

Statement = tuple[str, str, bool]
_TABLE = re.compile(r"^\s*(INSERT\s+INTO|DELETE\s+FROM|UPDATE|SELECT\b.*?\bFROM)\s+\"?(\w+)", re.I | re.S)


@contextmanager
def statements(engine: Engine) -> Iterator[list[Statement]]:
    """Every SQL statement run on `engine` meanwhile, as (verb, table, executemany)."""
    seen: list[Statement] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        found = _TABLE.match(statement)
        seen.append((statement.split(maxsplit=1)[0].upper(), found.group(2) if found else "", many))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def make(side: Subscribers, address: str, status: str) -> None:
    """An address already on the list in `status` (pending, confirmed, unsubscribed, bounced)."""
    side.store.sign_up(parse(address), Consent("web-signup", "x"))
    row = stored(side, address)
    if status != "pending":
        side.store.confirm(row.id, row.nonce)
    if status == "unsubscribed":
        side.store.unsubscribe(row.id, row.nonce)
    if status == "bounced":
        side.store.mark_bounced([row.id])


def emails_sent(side: Subscribers, config: Config, folder: Path) -> list[str]:
    """Let one outbox worker do everything queued; the recipients of the emails it wrote."""
    worker = OutboxWorker(side, OutboxTransport(folder), ConfirmationMail(config))
    asyncio.run(worker.run_once())
    new = folder / "new"
    return sorted(re.search(r"^To: (.*)$", path.read_text(), re.M).group(1)  # type: ignore[union-attr]
                  for path in (new.iterdir() if new.exists() else ()))


STATES = ["new", "pending", "confirmed", "unsubscribed", "bounced"]


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_every_state_costs_the_request_the_same_database_and_queue_work(
        side: Subscribers, config: Config, engine: Engine, clock: Clock, as_json: bool) -> None:
    for status in STATES[1:]:
        make(side, f"{status}@example.org", status)
    clock.advance(minutes=5)
    wakes = Wakes()
    app = app_for(side, config, wakes)
    work: dict[str, tuple[tuple[Statement, ...], int]] = {}
    for n, status in enumerate(STATES):
        with client_for(side, config, host=f"192.0.2.{n + 10}", app=app) as client:
            fields = {"email": f"{status}@example.org", "form_token": form_token(client)}
            woken = wakes.count
            with statements(engine) as seen:
                response = (client.post("/subscribe", json=fields) if as_json
                            else client.post("/subscribe", data=fields))
            assert response.status_code == 200
            work[status] = (tuple(seen), wakes.count - woken)
    assert len(set(work.values())) == 1, work
    [(done, woken)] = set(work.values())
    assert woken == 1
    assert [verb for verb, _, _ in done] == ["INSERT"]  # one row queued; the worker does the rest


def test_the_answers_to_one_client_do_not_depend_on_what_others_submitted(side: Subscribers,
                                                                          config: Config) -> None:
    app = app_for(side, config)
    with client_for(side, config, host="198.51.100.1", app=app) as someone_else:
        sign_up(someone_else, "alice@example.org")

    def answers(address: str, host: str) -> list[int]:
        with client_for(side, config, host=host, app=app) as client:
            token = form_token(client)
            return [client.post("/subscribe", data={"email": address, "form_token": token}).status_code
                    for _ in range(config.web.signups_per_address + 2)]

    assert answers("alice@example.org", "192.0.2.50") == answers("nobody@example.org", "192.0.2.51")


def test_sub_addresses_of_one_mailbox_share_its_hourly_limit_of_emails(side: Subscribers, config: Config,
                                                                       tmp_path: Path) -> None:
    app = app_for(side, config)
    for n in range(20):
        with client_for(side, config, host=f"198.51.100.{n}", app=app) as client:
            assert sign_up(client, f"Bomb+{n}@example.org").status_code == 200
        with client_for(side, config, host=f"203.0.113.{n}", app=app) as client:
            assert sign_up(client, f"reader{n}@example.net").status_code == 200
    sent = emails_sent(side, config, tmp_path / "outbox")
    assert len([to for to in sent if to.startswith("Bomb+")]) == config.web.signups_per_address == 5
    assert len([to for to in sent if to.endswith("@example.net")]) == 20  # other people are not held up


def test_one_domain_gets_at_most_its_own_higher_limit_of_emails_an_hour(side: Subscribers, tmp_path: Path,
                                                                        database_url: str, clock: Clock) -> None:
    config = settings.load(write_config(tmp_path, database_url, web={"signups_per_domain": 12}), environ={})
    side = Subscribers(config, side.engine, now=clock)
    app = app_for(side, config)
    for n in range(30):
        with client_for(side, config, host=f"198.51.100.{n}", app=app) as client:
            sign_up(client, f"reader{n}@example.org")
    assert len(emails_sent(side, config, tmp_path / "outbox")) == 12
    assert sum(side.store.counts().values()) == 12  # the rest were dropped, not stored


def test_a_form_token_is_good_for_form_minutes_only(side: Subscribers, config: Config, clock: Clock) -> None:
    assert config.web.form_minutes == 60
    with client_for(side, config) as client:
        token = form_token(client)
        clock.advance(minutes=59)
        assert client.post("/subscribe", data={"email": "a@example.org", "form_token": token}).status_code == 200
        clock.advance(minutes=2)
        late = client.post("/subscribe", data={"email": "b@example.org", "form_token": token})
    assert late.status_code == 400
    assert "This form was open too long or did not come from this site." in late.text


@pytest.mark.parametrize("headers", [{"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
                                     {"origin": "https://evil.example"},
                                     {"origin": "http://news.example.org"}],
                         ids=["fetch-cross-site", "fetch-same-site", "other-origin", "other-scheme"])
def test_a_cross_site_post_is_refused_even_with_a_genuine_token(side: Subscribers, config: Config,
                                                                headers: dict[str, str]) -> None:
    wakes = Wakes()
    with client_for(side, config, wakes) as client:
        response = client.post("/subscribe", data={"email": "victim@example.org", "form_token": form_token(client)},
                               headers=headers)
    assert response.status_code == 403
    assert "only be sent from its own page" in response.text
    assert wakes.count == 0


@pytest.mark.parametrize("headers", [{"sec-fetch-site": "same-origin", "origin": "null"},
                                     {"origin": "null"}, {"origin": "https://news.example.org"},
                                     {"origin": "http://testserver"}, {}],
                         ids=["fetch-same-origin", "null-origin", "base-url", "own-host", "none"])
def test_a_post_from_the_sites_own_page_or_a_plain_client_is_taken(side: Subscribers, config: Config,
                                                                   headers: dict[str, str]) -> None:
    with client_for(side, config) as client:
        response = client.post("/subscribe", data={"email": "reader@example.org", "form_token": form_token(client)},
                               headers=headers)
    assert response.status_code == 200
