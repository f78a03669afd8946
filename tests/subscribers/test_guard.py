"""The guard around the endpoint: headers on every answer, a body limit, errors logged without messages."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from subscribers.guard import Guard


async def broken(request: Request) -> PlainTextResponse:
    raise RuntimeError("could not handle alice@example.org")


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


def client(https: bool = False) -> TestClient:
    app = Starlette(routes=[Route("/broken", broken), Route("/echo", echo, methods=["POST"])])
    return TestClient(Guard(app, max_body=100, https=https), raise_server_exceptions=False)


def test_an_unexpected_error_is_logged_by_kind_and_place_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="subscribers.web"):
        response = client().get("/broken")
    assert response.status_code == 500
    assert "alice" not in response.text
    [record] = [r for r in caplog.records if r.name == "subscribers.web"]
    message = record.getMessage()
    assert message.startswith("GET /broken failed with RuntimeError at test_guard.py:")
    assert "alice" not in message
    assert record.exc_info is None


def test_a_body_over_the_limit_is_refused_as_it_streams() -> None:
    assert client().post("/echo", content=b"x" * 100).text == "100"
    assert client().post("/echo", content=b"x" * 101).status_code == 413


@pytest.mark.parametrize(("https", "hsts"), [(True, "max-age=31536000"), (False, None)], ids=["https", "http"])
def test_hsts_is_sent_only_when_the_site_is_served_over_https(https: bool, hsts: str | None) -> None:
    response = client(https).post("/echo", content=b"")
    assert response.headers.get("strict-transport-security") == hsts
    assert response.headers["x-frame-options"] == "DENY"
