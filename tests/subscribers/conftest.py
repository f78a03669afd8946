"""Fixtures for the web endpoint: a test client on the real app, and the wakes it gives the worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from newsletter.config.settings import Config
from subscribers.side import Subscribers
from tests.subscribers.web_client import Wakes, client_for


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def client(side: Subscribers, config: Config, wakes: Wakes) -> Iterator[TestClient]:
    with client_for(side, config, wakes) as test_client:
        yield test_client
