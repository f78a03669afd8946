"""A TestClient on the real endpoint, and the few steps the web tests share."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from newsletter.config.settings import Config
from subscribers.addresses import parse
from subscribers.pages import Pages
from subscribers.side import Subscribers
from subscribers.store import SignUp
from subscribers.tables import SubscriberRow
from subscribers.tokens import Purpose
from subscribers.web import create_app


class Wakes:
    """Counts the endpoint's calls to wake the outbox worker."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def app_for(side: Subscribers, config: Config, wakes: Wakes | None = None) -> ASGIApp:
    return create_app(side, Pages(config, side.signer, side.now), wake=wakes)


def client_for(side: Subscribers, config: Config, wakes: Wakes | None = None, host: str = "192.0.2.1",
               app: ASGIApp | None = None) -> TestClient:
    """A client at `host`; pass `app` to share one app (and its rate limits) between clients."""
    return TestClient(app or app_for(side, config, wakes), client=(host, 50_000), follow_redirects=False)


def form_token(client: TestClient) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def sign_up(client: TestClient, address: str, **extra: str) -> Any:
    return client.post("/subscribe", data={"email": address, "form_token": form_token(client), **extra})


def stored(side: Subscribers, address: str) -> Any:
    """The address's row, once the worker has acted on the sign-ups queued so far."""
    settle(side)
    index = side.crypto.blind_index(parse(address).lookup)
    with side.engine.connect() as conn:
        return conn.execute(select(SubscriberRow.__table__).where(SubscriberRow.blind_index == index)).first()


def link_token(side: Subscribers, address: str, purpose: Purpose = Purpose.CONFIRM) -> str:
    """The token of the confirm (or unsubscribe) link the subscriber would get."""
    row = stored(side, address)
    links = side.links
    url = (links.confirm_url if purpose is Purpose.CONFIRM else links.unsubscribe_url)(row.id, row.nonce)
    return url.split("token=", 1)[1]


def settle(side: Subscribers) -> list[SignUp]:
    """What the worker does next: act on every queued sign-up (its rate limits aside)."""
    return side.store.act_on_sign_ups(10_000)
