"""Fixtures for the subscriber side: a config on disk with its key file, a clock tests can move, the side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from newsletter.config import settings
from newsletter.config.settings import Config
from subscribers.side import Subscribers
from tests.conftest import write_config
from tests.subscribers.web_client import Wakes, client_for

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock that stands still until a test moves it."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def config_path(tmp_path: Path, database_url: str) -> Path:
    return write_config(tmp_path, database_url)


@pytest.fixture
def config(config_path: Path) -> Config:
    return settings.load(config_path, environ={})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def side(config: Config, engine: Engine, clock: Clock) -> Subscribers:
    return Subscribers(config, engine, now=clock)


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
