"""Requests in flight: counted while an app serves them, and `quiet` waits for a lull in them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subscribers.traffic import Traffic

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Held:
    """An ASGI app whose requests last until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.release.wait()


async def _nothing() -> Message:
    return {"type": "http.request"}


async def _ignore(message: Message) -> None:
    return None


def serve(app: ASGIApp, kind: str = "http") -> asyncio.Future[None]:
    """One request (or other scope) to `app`, running."""
    return asyncio.ensure_future(app({"type": kind}, _nothing, _ignore))


@pytest.fixture
async def held() -> AsyncIterator[Held]:
    app = Held()
    yield app
    app.release.set()


async def test_with_no_request_ever_it_is_quiet_at_once() -> None:
    assert await Traffic().quiet(patience=30) is True


async def test_a_request_is_counted_while_it_is_served(held: Held) -> None:
    traffic = Traffic()
    request = serve(traffic.count(held))
    await asyncio.sleep(0)
    assert traffic.in_flight == 1
    held.release.set()
    await request
    assert traffic.in_flight == 0


async def test_quiet_waits_for_the_request_in_flight_and_a_lull_after_it(held: Held) -> None:
    traffic = Traffic(lull=0.05)
    request = serve(traffic.count(held))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(traffic.quiet(patience=30))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    held.release.set()
    await request
    assert await waiting is True


async def test_quiet_gives_up_after_its_patience_while_requests_keep_coming(held: Held) -> None:
    traffic = Traffic()
    request = serve(traffic.count(held))
    await asyncio.sleep(0)
    assert await traffic.quiet(patience=0.05) is False
    held.release.set()
    await request


async def test_lifespan_and_websocket_scopes_are_not_requests(held: Held) -> None:
    traffic = Traffic()
    others = [serve(traffic.count(held), kind) for kind in ("lifespan", "websocket")]
    await asyncio.sleep(0)
    assert traffic.in_flight == 0
    held.release.set()
    await asyncio.gather(*others)


async def test_a_request_that_fails_is_no_longer_counted() -> None:
    traffic = Traffic()

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the app failed")

    with pytest.raises(RuntimeError):
        await traffic.count(broken)({"type": "http"}, _nothing, _ignore)
    assert traffic.in_flight == 0
    assert await traffic.quiet(patience=30) is True
